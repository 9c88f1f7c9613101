using MechInterp.Attribution;
using MechInterp.Patching;

namespace MechInterp.Circuits;

/// <summary>
/// Runs a circuit: the model on the source (clean) prompts with only the circuit's edges carrying the run's own values;
/// every other edge of the <see cref="ComputationalGraph"/> carries the writer's output from a replacement run (the
/// corrupted prompts). Faithfulness is how much of the source run's metric the circuit alone recovers.
/// </summary>
/// <remarks>
/// Reader v's input becomes in_v − Σ over removed edges u → v of (a_u − a_u,replacement): the edge's own contribution
/// swapped, nothing else. Writers' outputs are those of this run, so removing edges upstream changes what later writers
/// send along the edges that are kept, as in Hanna et al. 2024's evaluation. With every edge kept the run is the source
/// run; with none it is the replacement run.
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public static class CircuitEvaluation
{
    /// <summary>The metric of <paramref name="tokens"/> run with only <paramref name="edges"/> kept.</summary>
    /// <param name="model">The model (loaded as <see cref="ComputationalGraph.For"/> requires).</param>
    /// <param name="tokens">Token ids [batch, pos] of the run (clean).</param>
    /// <param name="replacement">A cache of the replacement run (corrupted prompts, same shape) holding the writers' hooks.</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="edges">Kept edges as (writer, reader) indices of the graph.</param>
    /// <exception cref="ArgumentException">An index pair is not an edge of the graph.</exception>
    public static float Run(IHookedModel model, Tensor tokens, ActivationCache replacement, Func<Tensor, Tensor> metric,
        IEnumerable<(int Writer, int Reader)> edges)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        ArgumentNullException.ThrowIfNull(metric);
        var graph = ComputationalGraph.For(model);
        var kept = new HashSet<(int, int)>();
        foreach (var e in edges ?? throw new ArgumentNullException(nameof(edges)))
        {
            if (e.Writer < 0 || e.Writer >= graph.Writers.Count || e.Reader < 0 || e.Reader >= graph.Readers.Count || !graph.IsEdge(e.Writer, e.Reader))
                throw new ArgumentException($"({e.Writer}, {e.Reader}) is not an edge: writers 0-{graph.Writers.Count - 1}, readers 0-{graph.Readers.Count - 1}, and a writer must come before its reader", nameof(edges));
            kept.Add(e);
        }
        using var scope = Tensor.Scope();
        var current = new Tensor?[graph.Writers.Count];
        var ctx = new HookContext();
        foreach (var hook in graph.Writers.Select(w => w.Hook).Distinct())
        {
            var indices = Enumerable.Range(0, graph.Writers.Count).Where(u => graph.Writers[u].Hook == hook).ToArray();
            ctx.AddObserver(model.GetHookPoint(hook), (x, _) =>
            {
                foreach (var u in indices) current[u] = ComputationalGraph.Slice(x, graph.Writers[u].Head);
            });
        }
        foreach (var hook in graph.Readers.Select(r => r.Hook).Distinct())
        {
            var readers = Enumerable.Range(0, graph.Readers.Count).Where(v => graph.Readers[v].Hook == hook).ToArray();
            ctx.Add(model.GetHookPoint(hook), (x, _) =>
            {
                Tensor? Correction(int v) // [batch, pos, d_model]: Σ over removed edges into v of (current − replacement)
                {
                    Tensor? sum = null;
                    for (int u = 0; u < graph.Writers.Count; u++)
                    {
                        if (!graph.IsEdge(u, v) || kept.Contains((u, v))) continue;
                        var w = graph.Writers[u];
                        var diff = current[u]! - ComputationalGraph.Slice(replacement[w.Hook], w.Head).To(x.Device);
                        sum = sum is null ? diff : sum + diff;
                    }
                    return sum;
                }
                if (graph.Readers[readers[0]].Head is null) return Correction(readers[0]) is { } c ? x - c : null;
                var perHead = new Tensor[x.Shape[2]];
                bool any = false;
                foreach (var v in readers)
                {
                    var c = Correction(v);
                    any |= c is not null;
                    perHead[graph.Readers[v].Head!.Value] = c ?? Tensor.Zeros([x.Shape[0], x.Shape[1], x.Shape[3]], x.DType, x.Device);
                }
                return any ? x - Tensor.Stack(perHead, 2) : null; // [batch, pos, heads, d_model]
            });
        }
        using (GradMode.NoGrad())
        using (ctx.Activate())
            return PatchSweep.Scalar(metric(model.Forward(tokens)));
    }

    /// <summary>Runs the circuit and the two unpatched runs and reports the faithfulness
    /// (circuit − replacement) / (source − replacement).</summary>
    /// <param name="model">The model.</param>
    /// <param name="sourceTokens">Token ids [batch, pos] of the run (clean).</param>
    /// <param name="replacementTokens">Token ids [batch, pos] whose writer outputs flow along removed edges (corrupted).</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="edges">Kept edges as (writer, reader) indices.</param>
    public static CircuitFaithfulness Evaluate(IHookedModel model, Tensor sourceTokens, Tensor replacementTokens, Func<Tensor, Tensor> metric,
        IEnumerable<(int Writer, int Reader)> edges)
    {
        var graph = ComputationalGraph.For(model);
        var list = edges.ToList();
        using var scope = Tensor.Scope();
        var writerHooks = graph.Writers.Select(w => w.Hook).ToHashSet(StringComparer.Ordinal);
        var (replacementLogits, replacement) = model.RunWithCache(replacementTokens, writerHooks.Contains);
        using var _ = replacement;
        float baseMetric = PatchSweep.Scalar(metric(replacementLogits));
        float sourceMetric;
        using (GradMode.NoGrad()) sourceMetric = PatchSweep.Scalar(metric(model.Forward(sourceTokens)));
        float circuit = Run(model, sourceTokens, replacement, metric, list);
        double span = sourceMetric - baseMetric;
        return new CircuitFaithfulness(circuit, sourceMetric, baseMetric, span == 0 ? double.NaN : (circuit - baseMetric) / span, list.Count, graph.EdgeCount);
    }
}

/// <summary>What a circuit recovers.</summary>
/// <param name="CircuitMetric">Metric with only the circuit's edges kept.</param>
/// <param name="SourceMetric">Metric of the unpatched source run (all edges).</param>
/// <param name="ReplacementMetric">Metric of the replacement run (no edges).</param>
/// <param name="Faithfulness">(circuit − replacement) / (source − replacement): 1 = all of it.</param>
/// <param name="Edges">Edges kept.</param>
/// <param name="TotalEdges">Edges in the graph.</param>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public sealed record CircuitFaithfulness(float CircuitMetric, float SourceMetric, float ReplacementMetric, double Faithfulness, int Edges, int TotalEdges);
