using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Per-call hooks, the Hooks() scope, hooks registered on the model, and the errors of bad hooks.</summary>
public sealed class RunWithHooksTests
{
    private const string Fixture = "gpt2-tiny";
    private static Tensor Input => HookTestUtil.Input(Fixture);

    [Fact]
    public void ExactNameAndFilterHooksAreEquivalentAndChangeTheLogits()
    {
        var model = HookTestUtil.Shared(Fixture);
        var clean = model.Forward(Input);
        var seen = new List<string>();
        var byName = model.RunWithHooks(Input, ("blocks.0.attn.hook_z", (z, hook) => { seen.Add(hook.Name); return z * 0; }));
        var byFilter = model.RunWithHooks(Input, new HookSpec(n => n.EndsWith(".attn.hook_z", StringComparison.Ordinal) && n.StartsWith("blocks.0.", StringComparison.Ordinal), (z, _) => z * 0));
        Assert.Equal(["blocks.0.attn.hook_z"], seen);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(byName, byFilter));
        Assert.True(HookTestUtil.MaxAbsDiff(byName, clean) > 1e-2, "ablating layer 0's heads must change the logits");
        // Per-call: nothing stays on the model.
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), clean));
        // A hook returning null leaves the activation alone (an active norm hook takes the unfused path: float rounding only).
        HookTestUtil.Close(model.RunWithHooks(Input, new HookSpec(_ => true, (_, _) => null)), clean, 1e-5, "null hooks everywhere");
    }

    [Fact]
    public void ZeroAblatingAllHeadsLeavesOnlyTheOutputBias()
    {
        var model = HookTestUtil.Shared(Fixture);
        var ablate = new HookSpec("blocks.0.attn.hook_z", (z, _) => z * 0);
        var (logits, cache) = model.RunWithCache(Input, forwardHooks: [ablate]);
        using (cache)
        {
            var bO = model.Blocks[0].Attn.b_O.Reshape(1, 1, 64).Expand(2, 12, 64);
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache["attn_out", 0], bO), 6);
            // The same run done by hand: overwrite attn_out with b_O.
            var manual = model.RunWithHooks(Input, ("blocks.0.hook_attn_out", (a, _) => bO.Contiguous()));
            HookTestUtil.Close(logits, manual, 1e-5, "z ablation vs attn_out = b_O");
        }
    }

    [Fact]
    public void AblatingOneHeadRemovesExactlyItsTermFromAttnOut()
    {
        var model = HookTestUtil.Shared("llama-tiny");
        var input = HookTestUtil.Input("llama-tiny");
        var (_, clean) = model.RunWithCache(input);
        using (clean)
        {
            var mask = Tensor.FromArray(new float[] { 1, 0, 1, 1 }, 1, 1, 4, 1);
            var (_, ablated) = model.RunWithCache(input, forwardHooks: [new HookSpec("blocks.1.attn.hook_z", (z, _) => z * mask)]);
            using (ablated)
            {
                var head1 = clean["z", 1].Select(2, 1).MatMul(model.Blocks[1].Attn.W_O.Select(0, 1));
                HookTestUtil.Close(ablated["attn_out", 1], clean["attn_out", 1] - head1, 1e-5, "attn_out without head 1");
                // Layer 1's input is untouched, so its pattern is too.
                Assert.Equal(0, HookTestUtil.MaxAbsDiff(ablated["pattern", 1], clean["pattern", 1]));
            }
        }
    }

    [Fact]
    public void IssueExampleCompilesAndHooksScopeAppliesOnlyInside()
    {
        var model = HookTestUtil.Shared(Fixture);
        var clean = model.Forward(Input);
        var ablated = model.RunWithHooks(Input, ("blocks.0.attn.hook_z", (z, hook) => z * 0));
        using (model.Hooks(("blocks.0.attn.hook_z", (z, _) => z * 0)))
        {
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), ablated));
            // Scopes nest: the outer hook still runs inside an inner scope.
            using (model.Hooks(("blocks.1.hook_mlp_out", (m, _) => m * 0)))
            {
                var both = model.Forward(Input);
                var expected = model.RunWithHooks(Input, ("blocks.0.attn.hook_z", (z, _) => z * 0), ("blocks.1.hook_mlp_out", (m, _) => m * 0));
                Assert.Equal(0, HookTestUtil.MaxAbsDiff(both, expected));
            }
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), ablated));
        }
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), clean));
    }

    [Fact]
    public void AddHookPermanentHooksAndResetHooks()
    {
        var model = HookTestUtil.Load(Fixture);
        var clean = model.Forward(Input);
        HookFn half = (x, _) => x * 0.5;
        var halfZ = model.RunWithHooks(Input, ("blocks.0.attn.hook_z", half));
        var halfMlp = model.RunWithHooks(Input, ("blocks.1.hook_mlp_out", half));
        var both = model.RunWithHooks(Input, ("blocks.0.attn.hook_z", half), ("blocks.1.hook_mlp_out", half));
        var quarterZHalfMlp = model.RunWithHooks(Input, ("blocks.0.attn.hook_z", (z, _) => z * 0.25), ("blocks.1.hook_mlp_out", half));

        var handle = model.AddHook("blocks.0.attn.hook_z", half);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), halfZ));
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), halfZ)); // stays between calls
        handle.Dispose();
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), clean));

        model.AddHook("blocks.0.attn.hook_z", half);
        model.AddPermanentHook("blocks.1.hook_mlp_out", half);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), both));
        // Registered hooks and per-call hooks compose.
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.RunWithHooks(Input, ("blocks.0.attn.hook_z", half)), quarterZHalfMlp));
        model.ResetHooks();
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), halfMlp)); // the permanent hook survives
        Assert.Equal(1, model.GetHookPoint("blocks.1.hook_mlp_out").HookCount);
        model.ResetHooks(includePermanent: true);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(Input), clean));
        Assert.All(model.HookDict.Values, h => Assert.Equal(0, h.HookCount));

        // A filter registers on every matching point; disposing removes them all.
        using (model.AddHook(n => n.EndsWith("hook_mlp_out", StringComparison.Ordinal), half))
        {
            Assert.Equal(2, model.HookDict.Values.Count(h => h.HookCount == 1));
            var expected = model.RunWithHooks(Input, new HookSpec(n => false, half));
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(expected, model.Forward(Input)));
            Assert.True(HookTestUtil.MaxAbsDiff(expected, clean) > 1e-3);
        }
        Assert.All(model.HookDict.Values, h => Assert.Equal(0, h.HookCount));
    }

    [Fact]
    public void UnknownHookNamesNameTheNearestValidNamesAndTheLayerRange()
    {
        var model = HookTestUtil.Shared(Fixture);
        var e = Assert.Throws<UnknownHookException>(() => model.RunWithHooks(Input, ("blocks.12.hook_resid_pre", (x, _) => x)));
        Assert.Equal("blocks.12.hook_resid_pre", e.HookName);
        Assert.Contains("'blocks.12.hook_resid_pre'", e.Message);
        Assert.Contains("2 layers (0-1)", e.Message);
        Assert.Contains("'blocks.1.hook_resid_pre'", e.Message);

        e = Assert.Throws<UnknownHookException>(() => model.GetHookPoint("blocks.0.attn.hook_patern"));
        Assert.Contains("'blocks.0.attn.hook_pattern'", e.Message);
        Assert.DoesNotContain("layers (0-1)", e.Message);

        Assert.Throws<UnknownHookException>(() => model.AddHook("hook_rot_q", (x, _) => x));
        Assert.Throws<UnknownHookException>(() => model.Hooks(("blocks.0.attn.hook_rot_q", (x, _) => x)));
        Assert.Throws<UnknownHookException>(() => model.RunWithCache(Input, ["blocks.2.hook_resid_post"]));
        Assert.Throws<UnknownHookException>(() => model.RunWithHooks(Input, null, [new HookSpec("blocks.0.hook_resid_mad", (x, _) => x)]));
        // Nothing was left registered by the failed calls.
        Assert.All(model.HookDict.Values, h => Assert.Equal(0, h.HookCount));
    }

    [Fact]
    public void AHookReturningAWrongShapeNamesTheHookAndBothShapes()
    {
        var model = HookTestUtil.Shared(Fixture);
        var e = Assert.Throws<HookShapeException>(() => model.RunWithHooks(Input, ("blocks.1.attn.hook_z", (z, _) => z.Sum(2))));
        Assert.Equal("blocks.1.attn.hook_z", e.HookName);
        Assert.Contains("'blocks.1.attn.hook_z'", e.Message);
        Assert.Contains("[2, 12, 16]", e.Message);
        Assert.Contains("[2, 12, 4, 16]", e.Message);
        // The model still works afterwards.
        HookTestUtil.Close(model.Forward(Input), HookTestUtil.Reference(Fixture).Logits, 1e-4, "logits after a failed hook");
    }
}
