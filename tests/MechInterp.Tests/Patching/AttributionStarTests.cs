using MechInterp.Attribution;
using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>
/// AtP*'s query/key fix against an independent path: the model itself, run with the site's q or k patched in
/// (pre-rotary, so rotation and grouped-query attention are the model's own), gives the exact new pattern of that layer;
/// Σ ∂M/∂pattern · (new − base pattern) is then what the recomputed-softmax estimate must equal.
/// </summary>
public sealed class AttributionStarTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    [Theory, MemberData(nameof(Cases))]
    public void QueryAndKeyEstimatesEqualTheLinearisedEffectOfTheModelsOwnPatchedPattern(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var model = o.Model;
        int layers = model.Config.NLayers;
        var (_, clean) = model.RunWithCache(o.Clean);
        var patterns = Enumerable.Range(0, layers).Select(ActName.Pattern).ToArray();
        var (grads, basePatterns) = AttributionPatching.Gradients(model, o.Corrupted, o.Metric, patterns);

        double Reference(string hook, bool[] maskData, long[] maskShape, int layer)
        {
            var mask = Tensor.FromArray(maskData, maskShape, DType.Bool, model.Device);
            var source = clean[hook];
            Tensor? patched = null;
            using (GradMode.NoGrad())
                model.RunWithHooks(o.Corrupted, (hook, (x, _) => Tensor.Where(mask, source, x)),
                    (ActName.Pattern(layer), (p, _) => { patched = p.Clone(); return null; }));
            return (grads[patterns[layer]] * (patched! - basePatterns[patterns[layer]])).Sum().Item<double>();
        }

        long pos = o.Clean.Shape[1];
        foreach (var keys in new[] { false, true })
        {
            int heads = keys ? model.Config.KvHeads : model.Config.NHeads;
            var allPos = (keys ? AttributionPatching.AttnHeadKAllPosStar(model, o.Clean, o.Corrupted, o.Metric)
                : AttributionPatching.AttnHeadQAllPosStar(model, o.Clean, o.Corrupted, o.Metric)).ToArray<float>(); // [layers, heads]
            var byPos = (keys ? AttributionPatching.AttnHeadKByPosStar(model, o.Clean, o.Corrupted, o.Metric)
                : AttributionPatching.AttnHeadQByPosStar(model, o.Clean, o.Corrupted, o.Metric)).ToArray<float>(); // [layers, pos, heads]
            Assert.Equal(layers * heads, allPos.Length);
            Assert.Equal(layers * pos * heads, byPos.Length);
            double worst = 0, largest = 0;
            for (int l = 0; l < layers; l++)
            {
                string hook = keys ? ActName.K(l) : ActName.Q(l);
                for (int h = 0; h < heads; h++)
                {
                    var all = new bool[heads];
                    all[h] = true;
                    double want = Reference(hook, all, [1, 1, heads, 1], l);
                    worst = Math.Max(worst, Math.Abs(allPos[l * heads + h] - want) / (1e-5 + 1e-4 * Math.Abs(want)));
                    largest = Math.Max(largest, Math.Abs(want));
                    foreach (long p in new long[] { 0, 4, pos - 1 })
                    {
                        var one = new bool[pos * heads];
                        one[p * heads + h] = true;
                        double wantPos = Reference(hook, one, [1, pos, heads, 1], l);
                        worst = Math.Max(worst, Math.Abs(byPos[(l * pos + p) * heads + h] - wantPos) / (1e-5 + 1e-4 * Math.Abs(wantPos)));
                    }
                }
            }
            output.WriteLine($"{(keys ? "keys" : "queries")}: worst |estimate - reference| / (1e-5 + 1e-4 |reference|) = {worst:F3}, largest effect {largest:E2}");
            Assert.True(worst <= 1, $"{(keys ? "key" : "query")} AtP* misses the reference by {worst:F2} tolerances");
            Assert.True(largest > 1e-3, "the estimates must be non-trivial for the comparison to mean anything");
        }
        foreach (var g in grads.Values) g.Dispose();
    }
}
