using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Backward hooks see d(loss)/d(activation): checked against central finite differences of the loss with a
/// perturbation added at the same hook point by a forward hook, on a float64 copy of the model.</summary>
public sealed class BackwardHookTests
{
    private static HookedTransformer LoadFloat64(string fixture, LoadOptions? options = null)
    {
        var model = HookTestUtil.Load(fixture, options);
        model.ConvertDType(DType.Float64);
        return model;
    }

    private static Tensor Grad(HookedTransformer model, Tensor input, string name)
    {
        Tensor? captured = null;
        model.RunWithHooks(input, null, [new HookSpec(name, (g, _) => { captured = g.Clone().DetachFromScopes(); return null; })]);
        return captured ?? throw new InvalidOperationException($"backward hook on {name} never ran");
    }

    private static double Loss(HookedTransformer model, Tensor input, string name, Tensor delta)
    {
        using var _ = GradMode.NoGrad();
        return model.RunWithHooks(input, [new HookSpec(name, (x, _) => x + delta)], null, new ForwardOptions { ReturnType = ReturnType.Loss }).Item<double>();
    }

    private static void CheckAgainstFiniteDifferences(HookedTransformer model, Tensor input, string name, int seed)
    {
        var grad = Grad(model, input, name);
        var direction = Tensor.Randn(grad.Shape, new Generator((ulong)seed), dtype: DType.Float64);
        const double eps = 1e-5; // float64: truncation ~eps², rounding ~1e-16 / eps
        double numeric = (Loss(model, input, name, direction * eps) - Loss(model, input, name, direction * -eps)) / (2 * eps);
        double analytic = (grad * direction).Sum().Item<double>();
        double scale = Math.Max(1e-3, Math.Abs(numeric));
        Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * scale + 1e-9,
            $"{name}: finite difference {numeric:E6} vs backward hook {analytic:E6}");
        Assert.True(Math.Abs(analytic) > 1e-8, $"{name}: gradient is zero");
    }

    public static TheoryData<string, string> Points()
    {
        var data = new TheoryData<string, string>();
        foreach (var n in new[] { "hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_q", "blocks.0.attn.hook_pattern",
                     "blocks.0.attn.hook_z", "blocks.0.hook_resid_mid", "blocks.1.ln2.hook_scale", "blocks.1.mlp.hook_post", "blocks.1.hook_resid_post",
                     "ln_final.hook_normalized" })
            data.Add("gpt2-tiny", n);
        foreach (var n in new[] { "blocks.0.attn.hook_k", "blocks.0.attn.hook_rot_k", "blocks.1.attn.hook_v", "blocks.0.mlp.hook_pre_linear", "blocks.1.hook_mlp_out" })
            data.Add("llama-tiny", n);
        return data;
    }

    [Theory, MemberData(nameof(Points))]
    public void BackwardHookGradientMatchesFiniteDifferences(string fixture, string name)
    {
        var model = LoadFloat64(fixture);
        CheckAgainstFiniteDifferences(model, HookTestUtil.Input(fixture), name, name.Length);
    }

    [Theory]
    [InlineData("gpt2-tiny", "blocks.1.hook_mlp_in")]
    [InlineData("gpt2-tiny", "blocks.1.hook_resid_mid")]
    [InlineData("pythia-tiny", "blocks.0.hook_mlp_in")]
    [InlineData("pythia-tiny", "blocks.0.hook_resid_pre")]
    [InlineData("gpt2-tiny", "blocks.0.hook_q_input")]
    [InlineData("gpt2-tiny", "blocks.0.attn.hook_result")]
    public void OptionalHookPointsGetTheirOwnGradient(string fixture, string name)
    {
        // hook_mlp_in passes the same residual as hook_resid_mid (or resid_pre), but only the MLP reads it: its
        // gradient must be the MLP path's alone, not the whole residual's.
        var model = LoadFloat64(fixture, new LoadOptions { ConfigureConfig = c => c with { UseHookMlpIn = true, UseSplitQkvInput = true, UseAttnResult = true } });
        CheckAgainstFiniteDifferences(model, HookTestUtil.Input(fixture), name, 7);
    }

    [Fact]
    public void RunWithCacheIncludeBackwardStoresEveryGradient()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        var (logits, cache) = model.RunWithCache(input, includeBackward: true);
        using (cache)
        {
            HookTestUtil.Close(logits, HookTestUtil.Reference("gpt2-tiny").Logits, 1e-4, "logits");
            foreach (var name in model.HookDict.Keys)
            {
                Assert.True(cache.ContainsKey(name), name);
                Assert.True(cache.ContainsKey(name + "_grad"), name + "_grad");
                Assert.Equal(cache[name].Shape, cache[name + "_grad"].Shape);
            }
            foreach (var name in new[] { "blocks.0.attn.hook_z", "blocks.1.hook_resid_pre", "hook_embed", "unembed.hook_out" })
                HookTestUtil.Close(cache[name + "_grad"], Grad(model, input, name), 1e-6, name + "_grad vs backward hook");
            // The residual leaving block 0 is the one entering block 1.
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache["blocks.0.hook_resid_post_grad"], cache["blocks.1.hook_resid_pre_grad"]), 6);
            // d(mean loss)/d(logits) = (softmax - onehot(next)) / 22 on the first 11 positions, zero on the last.
            var g = cache["unembed.hook_out_grad"];
            Assert.Equal(0, HookTestUtil.MaxAbs(g.Narrow(1, 11, 1)));
            HookTestUtil.Close(g.Narrow(1, 0, 11).Sum(-1), Tensor.Zeros([2, 11]), 1e-7, "logit gradients sum to zero");
            // The cached gradients outlive the backward pass.
            Assert.False(cache["hook_embed_grad"].IsDisposed);
        }
        Assert.All(model.HookDict.Values, h => Assert.Equal(0, h.HookCount));
    }

    [Theory]
    [InlineData("gpt2-tiny", "blocks.1.hook_resid_mid", "blocks.1.hook_mlp_in")]
    [InlineData("pythia-tiny", "blocks.0.hook_resid_pre", "blocks.0.hook_mlp_in")]
    public void PointsSharingATensorStillGetTheirOwnGradientsInOneBackwardPass(string fixture, string residual, string mlpIn)
    {
        // hook_mlp_in receives the very tensor that left the residual hook; with backward hooks on both (as
        // includeBackward puts them), each must still see only the gradient flowing through itself.
        var model = LoadFloat64(fixture, new LoadOptions { ConfigureConfig = c => c with { UseHookMlpIn = true } });
        var input = HookTestUtil.Input(fixture);
        var (_, cache) = model.RunWithCache(input, includeBackward: true);
        using (cache)
        {
            HookTestUtil.Close(cache[mlpIn + "_grad"], Grad(model, input, mlpIn), 1e-10, mlpIn + "_grad");
            HookTestUtil.Close(cache[residual + "_grad"], Grad(model, input, residual), 1e-10, residual + "_grad");
            Assert.True(HookTestUtil.MaxAbsDiff(cache[mlpIn + "_grad"], cache[residual + "_grad"]) > 1e-6, "the two gradients must differ");
        }
    }

    [Fact]
    public void BackwardHookCanBeRegisteredOnTheModel()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        Tensor? fromModel = null;
        using (model.AddHook("blocks.0.hook_attn_out", (g, _) => { fromModel = g.Clone().DetachFromScopes(); return null; }, HookDirection.Backward))
        {
            var loss = model.Forward(input, new ForwardOptions { ReturnType = ReturnType.Loss });
            loss.Backward();
        }
        Assert.NotNull(fromModel);
        HookTestUtil.Close(fromModel!, Grad(model, input, "blocks.0.hook_attn_out"), 1e-6, "registered vs per-call backward hook");
    }
}
