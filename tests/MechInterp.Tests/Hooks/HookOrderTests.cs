using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Hooks on one point run in registration order, however they were registered (TransformerLens runs PyTorch
/// forward hooks in registration order; a <c>hooks()</c> context registers on entry). Expectations are hand-computed:
/// each hook maps x to a·x + b, so the order shows in the result.</summary>
public sealed class HookOrderTests
{
    private const string Fixture = "gpt2-tiny";
    private const string Site = "blocks.0.hook_resid_pre";
    private static Tensor Input => HookTestUtil.Input(Fixture);

    private static HookFn Affine(float a, float b, List<string>? log = null, string tag = "") =>
        (x, _) => { log?.Add(tag); return x * a + b; };

    [Fact]
    public void RunWithCacheInsideAHooksScopeCachesTheEditedValue()
    {
        var model = HookTestUtil.Shared(Fixture);
        var (_, clean) = model.RunWithCache(Input, n => n == Site);
        using (clean)
        using (model.Hooks([new HookSpec(Site, Affine(2, 1))]))
        {
            var (_, cache) = model.RunWithCache(Input, n => n == Site);
            using (cache)
                HookTestUtil.Close(cache[Site], clean[Site] * 2 + 1, 1e-6, "cache inside Hooks(edit) holds 2x+1");
        }
    }

    [Fact]
    public void NestedScopesRunOuterFirstAndPrependRunsFirstOfAll()
    {
        var model = HookTestUtil.Shared(Fixture);
        var (_, clean) = model.RunWithCache(Input, n => n == Site);
        using (clean)
        {
            var log = new List<string>();
            Tensor? seen = null;
            using (model.Hooks([new HookSpec(Site, Affine(2, 0, log, "outer"))]))
            using (model.Hooks([new HookSpec(Site, Affine(1, 3, log, "inner")), new HookSpec(Site, Affine(1, -100, log, "prepended")) { Prepend = true }]))
                model.RunWithHooks(Input, new HookSpec(Site, (x, _) => { seen = x.Clone(); return null; }));
            Assert.Equal(["prepended", "outer", "inner"], log);
            // prepended: x - 100; outer: 2(x - 100); inner: 2(x - 100) + 3.
            HookTestUtil.Close(seen!, (clean[Site] - 100) * 2 + 3, 1e-4, "composition in registration order");
        }
    }

    [Fact]
    public void PointHooksAndCallHooksInterleaveByRegistrationTime()
    {
        var model = HookTestUtil.Load(Fixture);
        var (_, clean) = model.RunWithCache(Input, n => n == Site);
        var log = new List<string>();
        Tensor? seen = null;
        using (model.Hooks([new HookSpec(Site, Affine(3, 0, log, "scope"))]))
        {
            using var registered = model.AddHook(Site, Affine(1, 1, log, "registered"));
            model.RunWithHooks(Input, new HookSpec(Site, (x, _) => { seen = x.Clone(); return null; }));
        }
        Assert.Equal(["scope", "registered"], log);
        HookTestUtil.Close(seen!, clean[Site] * 3 + 1, 1e-5, "3x then +1");
        model.ResetHooks();
        using var a = model.AddHook(Site, Affine(1, 1, log, "a"));
        using var b = model.HookRegistry.AddHook(Site, Affine(5, 0, log, "b"), prepend: true);
        log.Clear();
        var (_, cache) = model.RunWithCache(Input, n => n == Site);
        Assert.Equal(["b", "a"], log);
        HookTestUtil.Close(cache[Site], clean[Site] * 5 + 1, 1e-4, "prepended 5x then +1");
    }

    [Fact]
    public void BackwardHooksRunInRegistrationOrder()
    {
        var model = HookTestUtil.Shared(Fixture);
        var log = new List<string>();
        HookFn Log(string tag) => (g, _) => { log.Add(tag); return null; };
        using (model.Hooks(backwardHooks: [new HookSpec(Site, Log("first"))]))
            model.RunWithHooks(Input, null, [new HookSpec(Site, Log("second"))]);
        Assert.Equal(["first", "second"], log);
    }
}
