using System.Diagnostics;
using MechInterp.Saes;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Saes;

/// <summary>
/// Ground truth (issue 14, 7a): 512 random unit features in 256 dimensions, ~5 active per sample with magnitudes in
/// [0.5, 1.5]. A standard L1 SAE and a TopK SAE (k = 5) with 512 latents trained here recover them: mean max cosine
/// similarity ≥ 0.9 and mean |cos| after a one-to-one Hungarian matching ≥ 0.8; the TopK SAE's L0 is exactly k.
/// </summary>
public class GroundTruthRecoveryTests(ITestOutputHelper output)
{
    private const int Features = 512, Dim = 256, Rows = 1024, Steps = 300;

    private static SaeConfig Config(string architecture, int? k = null) => new()
    {
        Architecture = architecture, DIn = Dim, DSae = Features, K = k, RescaleActsByDecoderNorm = k is null ? null : true,
    };

    private void Report(string what, Sae sae, SyntheticSparseFeatures data, SaeTrainingProgress last, Stopwatch clock, out double mmcs, out double matched)
    {
        mmcs = FeatureRecovery.MeanMaxCosine(data.Features, sae.WDec);
        matched = FeatureRecovery.MatchedMeanAbsCosine(data.Features, sae.WDec);
        output.WriteLine($"{what}: MMCS {mmcs:F4}, matched |cos| {matched:F4}, L0 {last.L0:F3}, explained variance {last.ExplainedVariance:F4}, dead {last.DeadFraction:F3}, {last.Step} steps in {clock.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public void TopKRecoversTheFeaturesWithL0EqualToK()
    {
        var data = new SyntheticSparseFeatures(Features, Dim, 5, seed: 7);
        var sae = SaeInitialization.Create(Config("topk", 5), new Generator(11));
        var trainer = new SaeTrainer(sae, new SaeTrainerOptions
        {
            TotalSteps = Steps, LearningRate = 1e-2, LrWarmupSteps = 20, LrDecaySteps = Steps / 4, DeadTokensWindow = 20 * Rows,
            Loss = new SaeLossOptions { AuxLossCoefficient = 1.0 / 32 },
        });
        var clock = Stopwatch.StartNew();
        var last = trainer.Train(data.Batches(Rows))!;
        Report("topk", sae, data, last, clock, out double mmcs, out double matched);
        Assert.True(mmcs >= 0.9, $"MMCS {mmcs}");
        Assert.True(matched >= 0.8, $"matched {matched}");
        // L0 is k on every row whose k-th largest pre-activation is positive (SAELens ReLUs the k kept values, so a row
        // with fewer than k positive pre-activations has fewer latents on).
        using var scope = Tensor.Scope();
        Tensor? pre = null;
        using var tap = sae.HookSaeActsPre.AddHook((x, _) => { pre = x; return null; });
        var f = sae.Encode(data.Batch(100_000, 256));
        var kth = (pre! * sae.DecoderNorms()).TopK(5, -1).Values.Select(-1, 4).ToArray<float>();
        var l0 = SaeFixtures.RowL0(f);
        for (int i = 0; i < l0.Length; i++) Assert.Equal(kth[i] > 0 ? 5 : l0[i], l0[i]);
        Assert.All(l0, n => Assert.InRange(n, 0, 5));
        output.WriteLine($"rows with L0 == k: {l0.Count(n => n == 5)} of {l0.Length}; rows whose k-th pre-activation is positive: {kth.Count(v => v > 0)}");
    }

    [Fact]
    public void StandardL1RecoversTheFeatures()
    {
        var data = new SyntheticSparseFeatures(Features, Dim, 5, seed: 7);
        var sae = SaeInitialization.Create(Config("standard"), new Generator(13), decoderInitNorm: 1.0);
        var trainer = new SaeTrainer(sae, new SaeTrainerOptions
        {
            TotalSteps = 300, LearningRate = 1e-2, LrWarmupSteps = 20, LrDecaySteps = 75, SparsityWarmupSteps = 50,
            NormalizeDecoder = true, Loss = new SaeLossOptions { SparsityCoefficient = 0.2 },
        });
        var clock = Stopwatch.StartNew();
        var last = trainer.Train(data.Batches(Rows))!;
        Report("standard", sae, data, last, clock, out double mmcs, out double matched);
        Assert.True(mmcs >= 0.9, $"MMCS {mmcs}");
        Assert.True(matched >= 0.8, $"matched {matched}");
    }
}
