using MechInterp.Attribution;
using MechInterp.Patching;
using MechInterp.Tests.Models;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>The AtP-vs-patching agreement report: on the oracle's own stored tensors it reproduces the oracle's
/// Pearson r (reference.json → checks.atp_first_order_quality) for all ten site kinds; on ours it gives the same.</summary>
public sealed class AttributionAgreementTests(ITestOutputHelper output)
{
    private static readonly string[] s_kinds = ["resid_pre", "attn_out", "mlp_out", "z_head", "z_head_pos"];

    [Theory, InlineData("gpt2-tiny"), InlineData("llama-tiny")]
    public void PearsonOnTheOraclesTensorsEqualsTheOraclesOwnCheck(string fixture)
    {
        using var r = new FixtureReference(Path.Combine("patching", fixture));
        using var scope = Tensor.Scope();
        var quality = r.Json.GetProperty("checks").GetProperty("atp_first_order_quality");
        foreach (var direction in new[] { "denoise", "noise" })
        {
            double baseMetric = r.Tensor(direction == "denoise" ? "corrupted_metric" : "clean_metric").ToArray<double>()[0];
            foreach (var kind in s_kinds)
            {
                var key = $"{direction}_{kind}";
                var a = AttributionAgreement.Compare(r.Tensor("atp_" + key), r.Tensor(key), baseMetric, k: 5);
                var want = quality.GetProperty(key);
                output.WriteLine($"{fixture} {key}: r = {a.PearsonR:F4} (oracle {want.GetProperty("pearson_r").GetDouble()}), top-5 overlap {a.TopKOverlap:F2}, max error {a.MaxAbsError:F4}");
                // The oracle rounds to 4 decimals.
                foreach (var (name, got) in new[] { ("pearson_r", a.PearsonR), ("max_abs_error", a.MaxAbsError), ("max_abs_effect", a.MaxAbsEffect) })
                    Assert.True(Math.Abs(got - want.GetProperty(name).GetDouble()) <= 6e-5, $"{key} {name}: {got} vs oracle {want.GetProperty(name).GetDouble()}");
            }
        }
    }

    [Theory, InlineData("cpu"), InlineData("torch-cpu")]
    public void OurSweepsGiveTheOraclesAgreementWhereAtPIsPoor(string device)
    {
        using var o = new PatchingOracle("llama-tiny", device);
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var a = AttributionAgreement.Compare(AttributionPatching.AttnOut(o.Model, o.Clean, o.Corrupted, o.Metric),
            ActivationPatching.AttnOut(o.Model, o.Corrupted, clean, o.Metric), o.CorruptedMetric, k: 5);
        output.WriteLine($"llama-tiny denoise_attn_out on {device}: r = {a.PearsonR:F4}, top-5 overlap {a.TopKOverlap:F2}");
        Assert.True(Math.Abs(a.PearsonR - 0.064) <= 1e-3, $"r = {a.PearsonR} vs the oracle's 0.064");
    }

    [Fact]
    public void TopKOverlapAndPearsonOnHandMadeValues()
    {
        using var scope = Tensor.Scope();
        // effects (patched - 1): [3, -2, 0.5, 0]; estimates rank |.| as [0, 3, 1, 2]: top-2 {0, 3} vs true {0, 1}.
        var patched = Tensor.FromArray([4f, -1f, 1.5f, 1f], 4);
        var estimate = Tensor.FromArray([2f, 0.1f, 0f, -1f], 4);
        var a = AttributionAgreement.Compare(estimate, patched, 1.0, k: 2);
        Assert.Equal(0.5, a.TopKOverlap);
        // Pearson by hand: x = [2, .1, 0, -1] (mean .275), y = [3, -2, .5, 0] (mean .375).
        double[] x = [2, .1, 0, -1], y = [3, -2, .5, 0];
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < 4; i++) { sxy += (x[i] - .275) * (y[i] - .375); sxx += (x[i] - .275) * (x[i] - .275); syy += (y[i] - .375) * (y[i] - .375); }
        Assert.Equal(sxy / Math.Sqrt(sxx * syy), a.PearsonR, 6);
        Assert.Equal(2.1, a.MaxAbsError, 5);
        Assert.Throws<ArgumentException>(() => AttributionAgreement.Compare(estimate, Tensor.Zeros([2, 2]), 0));
    }
}
