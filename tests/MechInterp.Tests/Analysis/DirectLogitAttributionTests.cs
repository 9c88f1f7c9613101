using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>Direct logit attribution's exact-sum identity (components plus the bias term are the model's logit
/// difference) and the logit lens's last layer against the model's own logits, on unprocessed fixture models.</summary>
public sealed class DirectLogitAttributionTests
{
    public static TheoryData<string> Decoders() => new() { "gpt2-tiny", "pythia-tiny", "llama-tiny", "opt-tiny" };

    [Theory, MemberData(nameof(Decoders))]
    public void AttributionsSumToTheLogitDifference(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var tokens = HookTestUtil.Input(fixture);                       // [2, 12]
        var (logits, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            var correct = Tensor.FromArray(new long[] { 3, 17 }, 2);
            var wrong = Tensor.FromArray(new long[] { 5, 2 }, 2);
            foreach (int position in new[] { -1, 4 })
            {
                int p = position < 0 ? 11 : position;
                var at = logits.Select(1, p);                               // [2, vocab]
                var diff = at.Gather(1, correct.Unsqueeze(1)).Squeeze(1) - at.Gather(1, wrong.Unsqueeze(1)).Squeeze(1);
                var logit = at.Gather(1, correct.Unsqueeze(1)).Squeeze(1);
                var perLayer = DirectLogitAttribution.PerLayer(cache, correct, wrong, position);
                HookTestUtil.Close(perLayer.Total, diff, 2e-4, $"{fixture} per layer at {position}");
                Assert.Equal(perLayer.Labels.Length, perLayer.Values.Shape[0]);
                HookTestUtil.Close(DirectLogitAttribution.PerHead(cache, correct, wrong, position).Total, diff, 2e-4, $"{fixture} per head");
                HookTestUtil.Close(DirectLogitAttribution.PerNeuron(cache, correct, null, position).Total, logit, 2e-4, $"{fixture} per neuron (one token)");
            }
            var heads = DirectLogitAttribution.PerHead(cache, correct, wrong);
            Assert.Equal("L0H0", heads.Labels[0]);
            Assert.Equal("remainder", heads.Labels[^1]);
        }
    }

    [Theory, MemberData(nameof(Decoders))]
    public void LogitLensLastLayerIsTheModelsLogits(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var tokens = HookTestUtil.Input(fixture);
        var (logits, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            foreach (var norm in new[] { LensNormalization.CachedFinalScale, LensNormalization.Recomputed })
            {
                var lens = LogitLens.Run(cache, normalization: norm);
                Assert.Equal(model.Config.NLayers + 1, lens.Logits.Shape[0]);
                Assert.Equal("final_post", lens.Labels[^1]);
                HookTestUtil.Close(lens.Logits.Select(0, model.Config.NLayers), logits, 2e-4, $"{fixture} {norm} final layer");
            }
            var result = LogitLens.Run(cache);
            var top = logits.ArgMax(-1);                                    // [2, 12]
            var ranks = result.Rank(top).Select(0, model.Config.NLayers).ToArray<long>();
            Assert.All(ranks, r => Assert.Equal(0, r));
            var best = result.TopTokens(model.Config.NLayers, 1, 3, k: 3);
            Assert.Equal(top.ToArray<long>()[12 + 3], best[0].Token);
            Assert.True(best[0].Probability >= best[1].Probability && best[1].Probability >= best[2].Probability);
            HookTestUtil.Close(result.Probabilities.Sum(-1), Tensor.Ones([model.Config.NLayers + 1, 2, 12]), 1e-4, "probabilities");
            var ranksOfTop = result.Rank(top).ToArray<long>();
            var probsOfTop = result.Probability(top).ToArray<float>();
            Assert.All(ranksOfTop, r => Assert.InRange(r, 0, model.Config.VocabOut - 1));
            Assert.All(probsOfTop, p => Assert.InRange(p, 0, 1));
            // the lens at an intermediate layer is the final norm and unembedding of that residual
            var recomputed = LogitLens.Run(cache, normalization: LensNormalization.Recomputed);
            HookTestUtil.Close(recomputed.Logits.Select(0, 1), LogitLens.Unembed(model, cache["resid_pre", 1]), 1e-5, "layer 1 lens");
        }
    }
}
