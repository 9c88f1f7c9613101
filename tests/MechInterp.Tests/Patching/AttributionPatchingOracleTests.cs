using MechInterp.Attribution;
using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>Attribution patching (AtP) of five site kinds, both directions, against the Hugging Face oracle's atp_*
/// tensors (never against the patching results: AtP is only first order), on both backends.</summary>
public sealed class AttributionPatchingOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    private static readonly (string Key, Func<IHookedModel, Tensor, Tensor, Func<Tensor, Tensor>, Tensor> Estimate)[] s_sites =
    [
        ("resid_pre", AttributionPatching.ResidPre),
        ("attn_out", AttributionPatching.AttnOut),
        ("mlp_out", AttributionPatching.MlpOut),
        ("z_head", AttributionPatching.AttnHeadOutAllPos),
        ("z_head_pos", AttributionPatching.AttnHeadOutByPos),
    ];

    [Theory, MemberData(nameof(Cases))]
    public void DenoisingAndNoisingAttributionMatchTheOracle(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        foreach (var (key, estimate) in s_sites)
        {
            output.WriteLine($"atp_denoise_{key}: {o.AssertMatches("atp_denoise_" + key, estimate(o.Model, o.Clean, o.Corrupted, o.Metric)):E2}");
            output.WriteLine($"atp_noise_{key}: {o.AssertMatches("atp_noise_" + key, estimate(o.Model, o.Corrupted, o.Clean, o.Metric)):E2}");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void TheBaseRunsGradientsMatchTheOracle(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var hooks = Enumerable.Range(0, o.Model.Config.NLayers).SelectMany(l => new[] { ActName.ResidPre(l), ActName.Z(l), ActName.AttnOut(l), ActName.MlpOut(l) }).ToArray();
        var (grads, acts) = AttributionPatching.Gradients(o.Model, o.Corrupted, o.Metric, hooks);
        foreach (var h in hooks)
        {
            o.AssertMatches("corrupted_grad." + h, grads[h].To(Device.Cpu));
            o.AssertMatches("corrupted_cache." + h, acts[h].To(Device.Cpu));
            grads[h].Dispose();
        }
    }

    [Fact]
    public void ANonDifferentiableMetricIsRejectedWithItsCause()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var e = Assert.Throws<ArgumentException>(() => AttributionPatching.ResidPre(o.Model, o.Clean, o.Corrupted, l => Tensor.Scalar(l.Sum().Item<float>())));
        Assert.Contains("differentiabl", e.Message);
    }
}
