using MechInterp.Saes;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>Evaluation formulas against cases computed by hand, and the splice fixture's HF losses.</summary>
public class SaeMetricsTests
{
    [Fact]
    public void ReconstructionMetricsMatchAHandComputedCase()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray([1f, 0, 0, 2], 2, 2);
        var xHat = Tensor.FromArray([1f, 1, 0, 1], 2, 2);
        var f = Tensor.FromArray([0f, 2, 0, 1, -1, 0], 2, 3);
        var m = ReconstructionMetrics.Compute(x, xHat, f);
        Assert.Equal(1.5, m.L0, 12);                                  // (1 + 2) / 2
        Assert.Equal(2.0, m.L1, 12);                                  // (2 + 2) / 2
        Assert.Equal(0.5, m.Mse, 12);                                 // (0 + 1 + 0 + 1) / 4
        Assert.Equal(0.2, m.ExplainedVariance, 12);                   // 1 − 2 / 2.5 (x̄ = [0.5, 1])
        Assert.Equal((1 / Math.Sqrt(2) + 1) / 2, m.CosineSimilarity, 12);
        Assert.Equal((Math.Sqrt(2) + 0.5) / 2, m.L2Ratio, 12);
    }

    [Fact]
    public void FeatureDensityCountsFiringTokens()
    {
        using var scope = Tensor.Scope();
        var d = new FeatureDensity(3);
        d.Add(Tensor.FromArray([1f, 0, 0, 2, 0, 0], 2, 3));
        d.Add(Tensor.FromArray([0f, 0, 3, 0, 0, 0], 1, 2, 3));
        Assert.Equal(4, d.Tokens);
        Assert.Equal([0.5, 0, 0.25], d.Densities());
        Assert.Equal(1 / 3.0, d.DeadFraction, 12);
        Assert.Equal(1 / 3.0, d.DenseFraction(0.3), 12);
        Assert.Equal(2 / 3.0, d.DenseFraction(0.1), 12);
        var (edges, counts) = d.Log10Histogram(bins: 2, minLog10: -2);
        Assert.Equal([-2.0, -1.0], edges);
        Assert.Equal([0, 2], counts);                                 // log10 0.5 = −0.30, log10 0.25 = −0.60
    }

    [Fact]
    public void CeLossAndKlScoresMatchAHandComputedCase()
    {
        using var scope = Tensor.Scope();
        var tokens = Tensor.FromArray([0L, 1], 1, 2);
        // Position 0 predicts token 1; position 1 is the same in all runs (KL 0 there, no loss term).
        var clean = Tensor.FromArray([0f, 0, 1, 2], 1, 2, 2);
        var sae = Tensor.FromArray([0f, (float)Math.Log(1.5), 1, 2], 1, 2, 2);   // p = [0.4, 0.6]
        var zero = Tensor.FromArray([(float)Math.Log(3), 0, 1, 2], 1, 2, 2);     // p = [0.75, 0.25]
        var r = ModelFidelity.Compare(tokens, clean, sae, zero);
        Assert.Equal(Math.Log(2), r.LossClean, 6);
        Assert.Equal(-Math.Log(0.6), r.LossWithSae, 6);
        Assert.Equal(Math.Log(4), r.LossZeroAblation, 6);
        Assert.Equal((Math.Log(4) + Math.Log(0.6)) / (Math.Log(4) - Math.Log(2)), r.CeLossScore, 6);
        double klSae = (0.5 * Math.Log(0.5 / 0.4) + 0.5 * Math.Log(0.5 / 0.6)) / 2, klZero = (0.5 * Math.Log(0.5 / 0.75) + 0.5 * Math.Log(0.5 / 0.25)) / 2;
        Assert.Equal(klSae, r.KlWithSae, 6);
        Assert.Equal(klZero, r.KlZeroAblation, 6);
        Assert.Equal((klZero - klSae) / klZero, r.KlDivergenceScore, 6);
    }

    [Fact]
    public void SpliceLossesMatchTheHuggingFaceOracle()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference("splice-gpt2-tiny");
        var model = HookTestUtil.Load("gpt2-tiny");
        var sae = Sae.Load(SaeFixtures.Dir("splice-gpt2-tiny"));
        var m = ModelFidelity.Measure(model, r.Tensor("input_ids"), sae);
        Assert.Equal(r.Tensor("loss_clean").Item<float>(), m.LossClean, 4);
        Assert.Equal(r.Tensor("loss_spliced").Item<float>(), m.LossWithSae, 4);
        Assert.True(double.IsFinite(m.LossZeroAblation) && double.IsFinite(m.CeLossScore));
        Assert.True(m.KlWithSae >= 0 && m.KlZeroAblation > 0);
        // The SAE's reconstruction metrics on the fixture's residual stream agree with SAELens's stored output.
        var x = r.Tensor("resid_clean").Reshape(-1, 64);
        var rec = ReconstructionMetrics.Of(sae, x);
        var byHand = ReconstructionMetrics.Compute(x, r.Tensor("sae_out").Reshape(-1, 64), r.Tensor("feature_acts").Reshape(-1, 256));
        Assert.Equal(byHand.Mse, rec.Mse, 5);
        Assert.Equal(byHand.L0, rec.L0, 12);
        Assert.Equal(byHand.ExplainedVariance, rec.ExplainedVariance, 5);
    }
}
