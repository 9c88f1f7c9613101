using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using MechInterp.Training;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Analysis;

/// <summary>The tuned lens starts as the logit lens, training lowers every layer's KL to the final distribution on
/// held-out tokens, and it survives a save and load.</summary>
public sealed class TunedLensTests(ITestOutputHelper output)
{
    [Fact]
    public void TrainingLowersEveryLayersKlAndTheLensRoundTrips()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        int vocab = model.Config.DVocab;
        var g = new Generator(21);
        var stream = Tensor.FromArray(Enumerable.Range(0, 4000).Select(_ => g.NextInt64(0, vocab)).ToArray(), 4000);
        var heldOut = Tensor.FromArray(Enumerable.Range(0, 64).Select(_ => g.NextInt64(0, vocab)).ToArray(), 4, 16);

        var identity = TunedLens.Identity(model);
        var (_, cache) = model.RunWithCache(heldOut);
        using (cache)
        {
            // untrained = the logit lens with recomputed norms
            var lens = LogitLens.Run(cache, normalization: LensNormalization.Recomputed);
            HookTestUtil.Close(identity.Logits(model, 1, cache["resid_pre", 1]), lens.Logits.Select(0, 1), 1e-5, "identity lens");
        }
        var before = identity.KlPerLayer(model, heldOut);
        var trained = TunedLens.Train(model, new TokenTensorBatches(stream, 8, 16), steps: 60, learningRate: 1e-2, seed: 3);
        var after = trained.KlPerLayer(model, heldOut);
        output.WriteLine($"KL per layer: logit lens {string.Join(", ", before.Select(k => k.ToString("F4")))}; tuned {string.Join(", ", after.Select(k => k.ToString("F4")))}");
        for (int l = 0; l < before.Length; l++)
            Assert.True(after[l] < 0.8 * before[l], $"layer {l}: KL {before[l]:F4} -> {after[l]:F4}");

        var path = Path.Combine(Path.GetTempPath(), "tuned-lens-" + Guid.NewGuid().ToString("N") + ".safetensors");
        try
        {
            trained.Save(path);
            var loaded = TunedLens.Load(path);
            Assert.Equal(after, loaded.KlPerLayer(model, heldOut));
        }
        finally { File.Delete(path); }
    }
}
