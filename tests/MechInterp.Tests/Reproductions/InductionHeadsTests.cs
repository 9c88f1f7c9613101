using MechInterp.Analysis;
using MechInterp.Training;
using MechInterp.Training.Datasets;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Reproductions;

/// <summary>
/// Olsson et al. (2022): a 2-layer attention-only model trained here on [BOS] + A + A + filler forms the
/// previous-token → induction circuit. Trains for about a minute on 2 cores (1,500 steps of 32 × 48 tokens), then
/// measures on fresh sequences whose segment lengths (9 and 14) were held out of training.
/// </summary>
public sealed class InductionHeadsTests(ITestOutputHelper output)
{
    [Fact]
    public void TwoLayerAttentionOnlyModelFormsAnInductionCircuit()
    {
        var config = new HookedTransformerConfig
        {
            NLayers = 2, DModel = 64, NHeads = 4, DHead = 16, DVocab = 64, NCtx = 48, AttnOnly = true, NormalizationType = NormalizationType.LN,
        };
        var model = new HookedTransformer(config);
        model.InitWeights(new Generator(1));
        var data = new RepeatedTokenSequences(64, 48, minSegment: 6, maxSegment: 17, batchSize: 32, heldOutSegments: [9, 14]);
        var result = new Trainer(model, new TrainerOptions { Steps = 1500, LearningRate = 1e-3, WeightDecay = 0.01, WarmupSteps = 100, Seed = 5 }).Train(data);
        output.WriteLine($"trained in {result.Elapsed.TotalSeconds:F0} s, final loss {result.Losses[^1]:F3}");

        foreach (int length in new[] { 9, 14 })
        {
            var r = InductionCircuit.Measure(model, data.Sample(64, new Generator(99), segmentLength: length));
            var (from, to, largest) = r.LargestKComposition;
            output.WriteLine($"|A|={length}: first {r.FirstSegmentLoss:F3} repeat {r.RepeatLoss:F3}; induction L{r.InductionHead.Layer}H{r.InductionHead.Head} {r.InductionScores[r.InductionHead.Layer, r.InductionHead.Head]:F2}; " +
                $"previous L0H{r.PreviousTokenHead.Head} {r.PreviousTokenScores[0, r.PreviousTokenHead.Head]:F2}; K-comp {r.CircuitKComposition:F3} (largest L0H{from}->L1H{to} {largest:F3}); " +
                $"ablations x{string.Join(" x", r.AblatedRepeatLoss.Select(a => (a / r.RepeatLoss).ToString("F2")))}; all induction heads x{r.AllInductionHeadsAblatedRepeatLoss / r.RepeatLoss:F2}");

            // In-context learning: the repeat is predicted far below the first copy's chance level.
            Assert.InRange(r.FirstSegmentLoss, 3.8, 4.6);                       // ln 63 = 4.14
            Assert.True(r.RepeatLoss < 0.25 * r.FirstSegmentLoss, $"repeat loss {r.RepeatLoss:F3} vs first copy {r.FirstSegmentLoss:F3}");
            double before = r.LossByPosition.Skip(1).Take(length - 1).Average();    // predicting A[1..] of the first copy
            double after = r.LossByPosition.Skip(length + 1).Take(length - 1).Average(); // predicting A[1..] of the second
            Assert.True(after < 0.25 * before, $"per-position loss {before:F2} -> {after:F2} at the repeat");

            // A layer-1 induction head; a layer-0 head attending to the previous token well above uniform attention
            // (Σ_q 1/(q+1) / 48 = 0.075), whose K-composition with the layer-1 heads is the largest of layer 0.
            Assert.Equal(1, r.InductionHead.Layer);
            Assert.True(r.InductionScores[1, r.InductionHead.Head] >= 0.5, $"induction score {r.InductionScores[1, r.InductionHead.Head]:F2}");
            Assert.True(r.PreviousTokenScores[0, r.PreviousTokenHead.Head] >= 0.15, $"previous-token score {r.PreviousTokenScores[0, r.PreviousTokenHead.Head]:F2}");
            Assert.Equal(r.PreviousTokenHead.Head, from);
            Assert.True(r.CircuitKComposition >= 0.9 * largest, $"K-composition {r.CircuitKComposition:F3} vs largest {largest:F3}");

            // Causal role: the layer-1 induction heads carry the repeat (their joint ablation multiplies its loss by 5+);
            // the single best one matters more than the least useful layer-1 head.
            Assert.True(r.AllInductionHeadsAblatedRepeatLoss >= 5 * r.RepeatLoss, $"ablating the induction heads: {r.AllInductionHeadsAblatedRepeatLoss:F3} vs {r.RepeatLoss:F3}");
            Assert.True(r.InductionAblationRatio > 1.1, $"ablating L1H{r.InductionHead.Head}: x{r.InductionAblationRatio:F2}");
        }
    }
}
