using MechInterp.Attribution;
using MechInterp.Circuits;
using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>EAP, EAP-IG and circuit evaluation by their identities, on models loaded with per-head results and split
/// inputs, on both backends.</summary>
public sealed class EdgeAttributionTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    private static HookedTransformer LoadGraphModel(string fixture, string device) =>
        HookedTransformer.FromPretrained(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), new LoadOptions
        {
            Device = Device.Parse(device),
            ConfigureConfig = c => c with { UseAttnResult = true, UseSplitQkvInput = true, UseHookMlpIn = true },
        });

    [Theory, MemberData(nameof(Cases))]
    public void AReadersEdgeScoresSumToTheAttributionOfItsWholeInput(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var model = LoadGraphModel(fixture, device);
        var scores = EdgeAttributionPatching.Eap(model, o.Clean, o.Corrupted, o.Metric);
        var graph = scores.Graph;
        var hooks = graph.Readers.Select(r => r.Hook).Distinct().ToArray();
        var (grads, baseInputs) = AttributionPatching.Gradients(model, o.Corrupted, o.Metric, hooks);
        var set = hooks.ToHashSet();
        var (_, clean) = model.RunWithCache(o.Clean, set.Contains);
        double worst = 0, largest = 0;
        for (int v = 0; v < graph.Readers.Count; v++)
        {
            var r = graph.Readers[v];
            var g = ComputationalGraph.Slice(grads[r.Hook], r.Head);
            var delta = ComputationalGraph.Slice(clean[r.Hook], r.Head) - ComputationalGraph.Slice(baseInputs[r.Hook], r.Head);
            double want = (g * delta).Sum().Item<double>();
            double got = Enumerable.Range(0, graph.Writers.Count).Sum(u => (double)scores[u, v]);
            worst = Math.Max(worst, Math.Abs(got - want) / (1e-5 + 1e-4 * Math.Abs(want)));
            largest = Math.Max(largest, Math.Abs(want));
        }
        foreach (var g in grads.Values) g.Dispose();
        output.WriteLine($"{graph.Writers.Count} writers, {graph.Readers.Count} readers, {graph.EdgeCount} edges; worst {worst:F3} tolerances, largest input attribution {largest:E2}");
        Assert.True(worst <= 1, $"edge scores miss their reader's input attribution by {worst:F2} tolerances");
        Assert.True(largest > 1e-2);
    }

    [Theory, MemberData(nameof(Cases))]
    public void AllEdgesGiveTheSourceRunNoEdgesTheReplacementRunAndOneRemovedEdgeSwapsOnlyItsContribution(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var model = LoadGraphModel(fixture, device);
        var graph = ComputationalGraph.For(model);
        var all = Enumerable.Range(0, graph.Writers.Count).SelectMany(u => Enumerable.Range(0, graph.Readers.Count).Where(v => graph.IsEdge(u, v)).Select(v => (u, v))).ToList();
        Assert.Equal(graph.EdgeCount, all.Count);
        var full = CircuitEvaluation.Evaluate(model, o.Clean, o.Corrupted, o.Metric, all);
        var none = CircuitEvaluation.Evaluate(model, o.Clean, o.Corrupted, o.Metric, []);
        output.WriteLine($"all edges: {full.CircuitMetric} (clean {o.CleanMetric}); none: {none.CircuitMetric} (corrupted {o.CorruptedMetric})");
        Assert.True(Math.Abs(full.CircuitMetric - o.CleanMetric) <= 1e-4, $"all edges {full.CircuitMetric} vs clean {o.CleanMetric}");
        Assert.True(Math.Abs(none.CircuitMetric - o.CorruptedMetric) <= 1e-4, $"no edges {none.CircuitMetric} vs corrupted {o.CorruptedMetric}");
        Assert.Equal(1.0, full.Faithfulness, 3);
        Assert.Equal(0.0, none.Faithfulness, 3);

        // Remove one edge, head 0 of layer 0 → the logits: the same as subtracting that head's clean-minus-corrupted output there.
        int u0 = graph.Writers.ToList().FindIndex(w => w.Name == "a0.h0");
        int logits = graph.Readers.Count - 1;
        var (_, clean) = model.RunWithCache(o.Clean, n => n == ActName.Result(0));
        var (_, corrupted) = model.RunWithCache(o.Corrupted, n => n == ActName.Result(0));
        var swap = clean[ActName.Result(0)].Select(2, 0) - corrupted[ActName.Result(0)].Select(2, 0);
        float want;
        using (GradMode.NoGrad())
            want = o.Metric(model.RunWithHooks(o.Clean, (graph.Readers[logits].Hook, (x, _) => x - swap))).Item<float>();
        float got = CircuitEvaluation.Run(model, o.Clean, corrupted, o.Metric, all.Where(e => e != (u0, logits)));
        Assert.True(Math.Abs(got - want) <= 1e-4, $"one edge removed: {got} vs {want}");
        Assert.True(Math.Abs(want - o.CleanMetric) > 1e-3, "the edge must matter for the check to mean anything");
    }

    [Theory, MemberData(nameof(Cases))]
    public void OneStepEapIgIsEapWithTheRunsSwappedAndNegated(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var model = LoadGraphModel(fixture, device);
        var ig = EdgeAttributionPatching.EapIg(model, o.Clean, o.Corrupted, o.Metric, steps: 1).ToTensor().ToArray<float>();
        var swapped = EdgeAttributionPatching.Eap(model, o.Corrupted, o.Clean, o.Metric).ToTensor().ToArray<float>();
        double worst = ig.Zip(swapped, (a, b) => Math.Abs(a + b) / (1e-5 + 1e-4 * Math.Abs(b))).Max();
        Assert.True(worst <= 1, $"one-step EAP-IG vs -EAP(swapped): {worst:F2} tolerances");
        var five = EdgeAttributionPatching.EapIg(model, o.Clean, o.Corrupted, o.Metric, steps: 5);
        var top = five.Top(5);
        output.WriteLine(string.Join(", ", top.Select(e => $"{e.From}→{e.To} {e.Score:F3}")));
        Assert.Equal(5, top.Count);
        Assert.True(Math.Abs(top[0].Score) >= Math.Abs(top[4].Score));
    }

    [Fact]
    public void AModelWithoutSplitInputsIsRejectedWithTheFix()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        var e = Assert.Throws<NotSupportedException>(() => ComputationalGraph.For(o.Model));
        Assert.Contains("UseSplitQkvInput = true", e.Message);
    }
}
