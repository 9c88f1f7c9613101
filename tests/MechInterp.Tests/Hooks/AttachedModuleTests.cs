using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Modules spliced in at run time (the seam SAEs, transcoders and steering use): their hook points join the
/// model's hook dictionary while attached, RunWithCache and RunWithHooks see them, and they vanish when detached.</summary>
public sealed class AttachedModuleTests
{
    private const string Fixture = "gpt2-tiny";
    private const string Site = "blocks.1.hook_resid_pre";
    private static Tensor Input => HookTestUtil.Input(Fixture);

    /// <summary>x → 0.5·x + shift, with a hook point on its input and one on its output (SAELens-style names).</summary>
    private sealed class ScaleShift : IHookModule
    {
        public ScaleShift(string at, float shift)
        {
            Shift = shift;
            HookIn = new HookPoint(at + ".hook_toy_in");
            HookOut = new HookPoint(at + ".hook_toy_out");
        }

        public float Shift { get; }
        public HookPoint HookIn { get; }
        public HookPoint HookOut { get; }
        public IReadOnlyList<HookPoint> HookPoints => [HookIn, HookOut];
        public Tensor Forward(Tensor x) => HookOut.Invoke(HookIn.Invoke(x) * 0.5f + Shift);
    }

    [Fact]
    public void AttachedModuleTransformsTheActivationAndAddsItsHookPoints()
    {
        var model = HookTestUtil.Load(Fixture);
        var names = model.HookDict.Keys.ToArray();
        var (_, clean) = model.RunWithCache(Input, n => n == Site || n == "blocks.1.hook_resid_post");
        var toy = new ScaleShift(Site, 0.25f);
        using (model.HookRegistry.Attach(Site, toy))
        {
            var keys = model.HookDict.Keys.ToList();
            Assert.Equal(names.Length + 2, keys.Count);
            int at = keys.IndexOf(Site);
            Assert.Equal([Site + ".hook_toy_in", Site + ".hook_toy_out"], keys.Skip(at + 1).Take(2));
            Assert.Same(toy.HookOut, model.GetHookPoint(Site + ".hook_toy_out"));

            var (logits, cache) = model.RunWithCache(Input);
            // The point's own hooks see the activation before the module; the module's input is that same value.
            HookTestUtil.Close(cache[Site], clean[Site], 1e-6, "resid_pre unchanged at the point");
            HookTestUtil.Close(cache[Site + ".hook_toy_in"], clean[Site], 1e-6, "module input");
            HookTestUtil.Close(cache[Site + ".hook_toy_out"], clean[Site] * 0.5f + 0.25f, 1e-6, "module output");
            // What the rest of the model sees is the module's output: the same as patching it in by hand.
            model.HookRegistry.DetachAll();
            var byHand = model.RunWithHooks(Input, new HookSpec(Site, (x, _) => x * 0.5f + 0.25f));
            HookTestUtil.Close(logits, byHand, 1e-5, "attached module == hand-written edit");
        }
        Assert.Equal(names, model.HookDict.Keys);
        Assert.Throws<UnknownHookException>(() => model.GetHookPoint(Site + ".hook_toy_out"));
    }

    [Fact]
    public void HooksOnAModulePointEditTheModuleAndDisposingDetaches()
    {
        var model = HookTestUtil.Load(Fixture);
        var toy = new ScaleShift(Site, 0f);
        var handle = model.HookRegistry.Attach(Site, toy);
        // Zeroing the module's output == the residual stream entering block 1 is zero.
        var viaModule = model.RunWithHooks(Input, new HookSpec(Site + ".hook_toy_out", (x, _) => x * 0));
        handle.Dispose();
        var direct = model.RunWithHooks(Input, new HookSpec(Site, (x, _) => x * 0));
        HookTestUtil.Close(viaModule, direct, 1e-5, "zeroed module output");
        Assert.Empty(model.HookRegistry.Attached);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), HookTestUtil.Shared(Fixture).Forward(Input)), 5);
    }

    [Fact]
    public void BadAttachmentsAreRefusedWithTheFix()
    {
        var model = HookTestUtil.Load(Fixture);
        var wrongPrefix = new ScaleShift("blocks.0.hook_resid_pre", 0f);
        var e = Assert.Throws<ArgumentException>(() => model.HookRegistry.Attach(Site, wrongPrefix));
        Assert.Contains("blocks.0.hook_resid_pre.hook_toy_in", e.Message);
        using var first = model.HookRegistry.Attach(Site, new ScaleShift(Site, 0f));
        var dup = Assert.Throws<InvalidOperationException>(() => model.HookRegistry.Attach(Site, new ScaleShift(Site, 1f)));
        Assert.Contains("detach it first", dup.Message);
        Assert.Throws<UnknownHookException>(() => model.HookRegistry.Attach("blocks.9.hook_resid_pre", new ScaleShift("blocks.9.hook_resid_pre", 0f)));
    }

    [Fact]
    public void EncoderTakesModulesThroughTheSameSeam()
    {
        var encoder = HookedEncoder.FromPretrained(HookTestUtil.Dir("bert-tiny"));
        const string at = "blocks.0.hook_resid_pre";
        var tokens = Tensor.FromArray(new long[] { 1, 5, 7, 9, 2 }, 1, 5);
        var toy = new ScaleShift(at, 0f);
        using (encoder.HookRegistry.Attach(at, toy))
        {
            IHookedModel model = encoder;
            var (_, cache) = model.RunWithCache(tokens, n => n.StartsWith(at, StringComparison.Ordinal));
            Assert.Equal([at, at + ".hook_toy_in", at + ".hook_toy_out"], cache.Keys);
            HookTestUtil.Close(cache[at + ".hook_toy_out"], cache[at] * 0.5f, 1e-6, "encoder module output");
        }
    }
}
