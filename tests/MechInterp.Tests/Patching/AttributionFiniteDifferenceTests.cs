using MechInterp.Attribution;
using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>
/// AtP at the sites the oracle does not cover (resid_mid, resid_post, q, k, v, pattern, MLP neurons) against central
/// finite differences: a site's estimate is the metric's directional derivative along (source − base) restricted to the
/// site, measured by adding ±ε·(source − base) there with a forward hook, on a float64 copy of the model.
/// </summary>
public sealed class AttributionFiniteDifferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in new[] { "gpt2-tiny", "llama-tiny" })
            foreach (var d in new[] { "cpu", "torch-cpu" }) data.Add(m, d);
        return data;
    }

    private static readonly (string Activation, PatchAxis[] Axes, Func<IHookedModel, Tensor, Tensor, Func<Tensor, Tensor>, Tensor> Estimate)[] s_sites =
    [
        ("resid_mid", [PatchAxis.Pos], AttributionPatching.ResidMid),
        ("resid_post", [PatchAxis.Pos], AttributionPatching.ResidPost),
        ("q", [PatchAxis.Head], AttributionPatching.AttnHeadQAllPos),
        ("k", [PatchAxis.Pos, PatchAxis.Head], AttributionPatching.AttnHeadKByPos),
        ("v", [PatchAxis.Head], AttributionPatching.AttnHeadVAllPos),
        ("pattern", [PatchAxis.DestPos, PatchAxis.Head], AttributionPatching.AttnHeadPatternByPos),
        ("post", [PatchAxis.Neuron], AttributionPatching.MlpNeuronsAllPos),
    ];

    [Theory, MemberData(nameof(Cases))]
    public void EverySiteKindsEstimateIsTheDirectionalDerivativeAlongTheSourceDifference(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var model = o.Model;
        model.ConvertDType(DType.Float64);
        var (_, clean) = model.RunWithCache(o.Clean);
        var (_, corrupted) = model.RunWithCache(o.Corrupted);
        var rng = new Random(fixture.Length);
        foreach (var (activation, axes, estimate) in s_sites)
        {
            var result = estimate(model, o.Clean, o.Corrupted, o.Metric); // [layers, axis sizes...]
            var values = result.ToArray<float>();
            long cellsPerLayer = values.Length / model.Config.NLayers;
            double worst = 0, largest = 0;
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                string hook = ActName.Get(activation, l);
                var delta = clean[hook] - corrupted[hook];
                var dims = axes.Select(a => PatchAxes.Dim(hook, delta.Rank, a)).ToArray();
                var masks = MechInterp.Patching.PatchGrid.OneHotMasks(delta.Shape, dims, model.Device).ToArray();
                foreach (int cell in Enumerable.Range(0, masks.Length).OrderBy(_ => rng.Next()).Take(3))
                {
                    var step = Tensor.Where(masks[cell], delta, Tensor.ZerosLike(delta));
                    double At(double eps)
                    {
                        using var noGrad = GradMode.NoGrad();
                        return o.Metric(model.RunWithHooks(o.Corrupted, (hook, (x, _) => x + step * eps))).Item<double>();
                    }
                    const double eps = 1e-4; // float64: truncation ~eps², rounding ~1e-16 / eps
                    double numeric = (At(eps) - At(-eps)) / (2 * eps);
                    double got = values[l * cellsPerLayer + cell];
                    // The estimate is float32: allow its rounding.
                    worst = Math.Max(worst, Math.Abs(got - numeric) / (1e-5 + 1e-5 * Math.Abs(numeric)));
                    largest = Math.Max(largest, Math.Abs(numeric));
                }
            }
            output.WriteLine($"{activation}: worst |AtP - finite difference| / (1e-5 + 1e-5 |fd|) = {worst:F3}, largest {largest:E2}");
            Assert.True(worst <= 1, $"{activation}: AtP misses the finite difference by {worst:F2} tolerances");
            Assert.True(largest > 1e-4, $"{activation}: the sampled estimates must be non-trivial");
        }
    }
}
