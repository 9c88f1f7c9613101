using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>Steering adds exactly its vector where asked (checked on the cached activation), steered generation is the
/// same with and without the KV cache, and probes recover a planted linear direction.</summary>
public sealed class SteeringAndProbeTests
{
    private const string Site = "blocks.1.hook_resid_pre";

    [Fact]
    public void SteeringAddsTheVectorAtTheChosenPositions()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = HookTestUtil.Input("gpt2-tiny");
        var vector = Tensor.Randn([model.Config.DModel], new Generator(4));
        var (_, plain) = model.RunWithCache(tokens, n => n == Site);
        var (_, steered) = model.RunWithCache(tokens, n => n == Site, forwardHooks: [Steering.Add(Site, vector, 2.5, fromPosition: 7)]);
        using (plain)
        using (steered)
        {
            var delta = steered[Site] - plain[Site];                          // [2, 12, d]
            HookTestUtil.Close(delta.Narrow(1, 0, 7), Tensor.Zeros([2, 7, model.Config.DModel]), 0, "unsteered positions");
            HookTestUtil.Close(delta.Narrow(1, 7, 5), (vector * 2.5).Reshape(1, 1, -1).Expand(2, 5, model.Config.DModel), 1e-5, "steered positions");
        }
    }

    [Fact]
    public void MeanDifferenceIsTheDifferenceOfCachedMeans()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = HookTestUtil.Input("gpt2-tiny");
        var first = tokens.Narrow(0, 0, 1);
        var second = tokens.Narrow(0, 1, 1);
        var (_, cache) = model.RunWithCache(tokens, n => n == Site);
        using (cache)
        {
            var expected = cache[Site].Select(0, 0).Select(0, 11) - cache[Site].Select(0, 1).Select(0, 11);
            HookTestUtil.Close(Steering.MeanDifference(model, Site, first, second), expected, 1e-5, "mean difference");
            HookTestUtil.Close(Steering.MeanActivation(model, Site, tokens, 3), cache[Site].Select(1, 3).Mean(0), 1e-5, "mean activation");
        }
    }

    [Fact]
    public void SteeredGenerationIsTheSameWithAndWithoutTheCache()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var prompt = HookTestUtil.Input("gpt2-tiny").Narrow(1, 0, 6);
        var vector = Tensor.Randn([model.Config.DModel], new Generator(5)) * 4;
        foreach (bool newOnly in new[] { false, true })
        {
            var cached = Steering.Generate(model, prompt, Site, vector, 1, newOnly, new GenerateOptions { MaxNewTokens = 5 });
            var uncached = Steering.Generate(model, prompt, Site, vector, 1, newOnly, new GenerateOptions { MaxNewTokens = 5, UseKvCache = false });
            Assert.Equal(uncached.ToArray<long>(), cached.ToArray<long>());
        }
        // New tokens only: the first new token comes from unsteered prompt activations, so it is the plain one.
        var plain = model.Generate(prompt, new GenerateOptions { MaxNewTokens = 1 }).ToArray<long>();
        var steeredNew = Steering.Generate(model, prompt, Site, vector * 100, 1, newTokensOnly: true, new GenerateOptions { MaxNewTokens = 1 }).ToArray<long>();
        Assert.Equal(plain, steeredNew);
    }

    [Fact]
    public void ProbesRecoverAPlantedDirectionOnHeldOutRows()
    {
        var g = new Generator(8);
        var x = Tensor.Randn([600, 16], g);                                   // [n, d]
        var truth = Tensor.Randn([16], new Generator(9));
        var labels = ((x.MatMul(truth) + 0.3) > 0).To(DType.Int64);           // class 1 on one side of a hyperplane
        foreach (var probe in new[] { Probes.TrainLogistic(x, labels, steps: 400, learningRate: 5e-2), Probes.TrainLinear(x, labels) })
        {
            Assert.Equal(480, probe.TrainCount);
            Assert.Equal(120, probe.TestCount);
            Assert.True(probe.TestAccuracy >= 0.93, $"held-out accuracy {probe.TestAccuracy:F3}");
            var d = probe.Direction();
            double cosine = (d * truth).Sum().Item<float>() / (d.Norm().Item<float>() * truth.Norm().Item<float>());
            Assert.True(cosine > 0.9, $"probe direction cosine with the planted one {cosine:F3}");
        }
    }

    [Fact]
    public void SteeringAlongAProbeDirectionRaisesItsScoreByTheExactAmount()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = HookTestUtil.Input("gpt2-tiny");
        var (_, cache) = model.RunWithCache(tokens, n => n == Site);
        using (cache)
        {
            var labels = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (long)(i % 2)).ToArray(), 2, 12);
            var (features, flat) = Probes.FromCache(cache, Site, labels);
            var probe = Probes.TrainLinear(features, flat, testFraction: 0);
            var direction = probe.Direction();                                // raises class 1's score against class 0's
            var (_, steered) = model.RunWithCache(tokens, n => n == Site, forwardHooks: [Steering.Add(Site, direction, 0.5)]);
            using (steered)
            {
                var before = probe.Scores(features);
                var after = probe.Scores(Probes.FromCache(steered, Site, labels).Features);
                var margin = (after.Select(1, 1) - after.Select(1, 0)) - (before.Select(1, 1) - before.Select(1, 0)); // [n]
                double expected = 0.5 * (direction * direction).Sum().Item<float>();
                HookTestUtil.Close(margin, Tensor.Full([24], expected), 1e-3 * Math.Max(1, expected), "margin shift = c·‖direction‖²");
            }
        }
    }
}
