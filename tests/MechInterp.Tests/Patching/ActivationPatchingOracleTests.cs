using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>Denoising and noising sweeps of five site kinds against the Hugging Face oracle, on both backends.</summary>
public sealed class ActivationPatchingOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    private static readonly (string Key, Func<IHookedModel, Tensor, ActivationCache, Func<Tensor, Tensor>, Tensor> Sweep)[] s_sweeps =
    [
        ("resid_pre", (m, t, c, f) => ActivationPatching.ResidPre(m, t, c, f)),
        ("attn_out", (m, t, c, f) => ActivationPatching.AttnOut(m, t, c, f)),
        ("mlp_out", (m, t, c, f) => ActivationPatching.MlpOut(m, t, c, f)),
        ("z_head", (m, t, c, f) => ActivationPatching.AttnHeadOutAllPos(m, t, c, f)),
        ("z_head_pos", (m, t, c, f) => ActivationPatching.AttnHeadOutByPos(m, t, c, f)),
    ];

    [Theory, MemberData(nameof(Cases))]
    public void DenoisingMatchesTheOracle(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        foreach (var (key, sweep) in s_sweeps)
            output.WriteLine($"denoise_{key}: max |d| = {o.AssertMatches("denoise_" + key, sweep(o.Model, o.Corrupted, clean, o.Metric)):E2}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void NoisingMatchesTheOracle(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (_, corrupted) = o.Model.RunWithCache(o.Corrupted);
        foreach (var (key, sweep) in s_sweeps)
            output.WriteLine($"noise_{key}: max |d| = {o.AssertMatches("noise_" + key, sweep(o.Model, o.Clean, corrupted, o.Metric)):E2}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void TheLogitDifferenceMetricGivesTheOraclesPlainRunValues(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        o.AssertMatches("clean_metric", o.Metric(o.Model.Forward(o.Clean)).To(DType.Float32).Reshape(1));
        o.AssertMatches("corrupted_metric", o.Metric(o.Model.Forward(o.Corrupted)).To(DType.Float32).Reshape(1));
        // The metric alone, on the oracle's own logits: independent of our forward pass.
        Assert.Equal(o.CleanMetric, o.Metric(o.Expected("clean_logits")).Item<float>(), 5);
    }
}
