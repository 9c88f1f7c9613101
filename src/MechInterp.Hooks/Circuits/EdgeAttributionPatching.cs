using MechInterp.Attribution;
using MechInterp.Patching;

namespace MechInterp.Circuits;

/// <summary>
/// Edge attribution patching (EAP; Syed et al. 2023) and its integrated-gradients form (EAP-IG; Hanna et al. 2024):
/// attribution patching applied to the edges of the <see cref="ComputationalGraph"/> rather than its nodes.
/// </summary>
/// <remarks>
/// An edge u → v carries writer u's output into reader v's input. Patching only that edge changes v's input by u's
/// difference between the runs, so to first order the metric moves by Δa_u · ∂M/∂in_v: the writer's activation
/// difference dotted with the reader's input gradient, summed over prompts, positions and d_model. One forward pass of
/// each run and one backward pass score every edge. EAP-IG replaces the base run's gradient by its average along a
/// straight path of the embeddings from the base to the source run (Hanna et al. use it because plain gradients at
/// saturated points miss edges), at one backward pass per step. Find circuits by keeping the top edges and check them
/// with <see cref="CircuitEvaluation"/>: attribution ranks, only running the circuit shows what it recovers.
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public static class EdgeAttributionPatching
{
    /// <summary>EAP scores of every edge: Σ (a_u,source − a_u,base) · ∂M/∂in_v on the base run.</summary>
    /// <param name="model">The model (loaded as <see cref="ComputationalGraph.For"/> requires).</param>
    /// <param name="sourceTokens">Token ids [batch, pos] whose activations flow along a patched edge (clean for denoising).</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run whose gradient is taken (corrupted for denoising).</param>
    /// <param name="metric">Differentiable map of logits [batch, pos, d_vocab] to one number.</param>
    public static EdgeScores Eap(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Score(model, sourceTokens, baseTokens, metric, steps: 0);

    /// <summary>EAP-IG scores: Δa_u · the reader's input gradient averaged over <paramref name="steps"/> runs whose
    /// embeddings (<c>blocks.0.hook_resid_pre</c>) are base + k/steps · (source − base), k = 1..steps.</summary>
    /// <inheritdoc cref="Eap"/>
    /// <param name="model">The model.</param>
    /// <param name="sourceTokens">Token ids [batch, pos] of the source run.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the base run.</param>
    /// <param name="metric">Differentiable metric.</param>
    /// <param name="steps">Points on the path (Hanna et al. use 5 or more).</param>
    public static EdgeScores EapIg(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric, int steps = 5)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), $"EAP-IG needs at least one step, got {steps}");
        return Score(model, sourceTokens, baseTokens, metric, steps);
    }

    private static EdgeScores Score(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric, int steps)
    {
        var graph = ComputationalGraph.For(model);
        using var scope = Tensor.Scope();
        var writerHooks = graph.Writers.Select(w => w.Hook).Distinct().ToHashSet(StringComparer.Ordinal);
        using var source = Ablation.CacheOf(model, sourceTokens, writerHooks.Contains);
        using var baseRun = Ablation.CacheOf(model, baseTokens, writerHooks.Contains);
        var delta = graph.WriterOutputs(source) - graph.WriterOutputs(baseRun); // [batch, pos, writers, d_model]
        var readerHooks = graph.Readers.Select(r => r.Hook).Distinct().ToArray();
        Tensor? gradSum = null; // [batch, pos, readers, d_model]
        int runs = Math.Max(1, steps);
        for (int k = 1; k <= runs; k++)
        {
            using var step = Tensor.Scope();
            IDisposable? path = null;
            if (steps > 0)
            {
                double alpha = (double)k / steps;
                var from = baseRun[ActName.ResidPre(0)];
                var to = source[ActName.ResidPre(0)];
                var embed = (from + (to - from) * alpha).Detach();
                path = new HookContext().Add(model.GetHookPoint(ActName.ResidPre(0)), (_, _) => embed).Activate();
            }
            Dictionary<string, Tensor> grads;
            using (path)
                (grads, _) = AttributionPatching.Gradients(model, baseTokens, metric, readerHooks);
            var g = Tensor.Stack(graph.Readers.Select(r => ComputationalGraph.Slice(grads[r.Hook], r.Head)).ToList(), 2);
            gradSum = gradSum is null ? g : gradSum + g;
            gradSum.MoveToOuterScope();
            foreach (var t in grads.Values) t.Dispose();
        }
        var gradient = gradSum! / runs; // [batch, pos, readers, d_model]
        long rows = delta.Shape[0] * delta.Shape[1];
        var d = delta.Reshape(rows, delta.Shape[2], delta.Shape[3]); // [rows, writers, d_model]
        var gr = gradient.Reshape(rows, gradient.Shape[2], gradient.Shape[3]); // [rows, readers, d_model]
        var scores = d.MatMul(gr.Transpose(1, 2)).Sum(0); // [writers, readers]
        var values = scores.To(DType.Float32).To(Device.Cpu).ToArray<float>();
        for (int u = 0; u < graph.Writers.Count; u++)
            for (int v = 0; v < graph.Readers.Count; v++)
                if (!graph.IsEdge(u, v)) values[u * graph.Readers.Count + v] = 0;
        return new EdgeScores(graph, values);
    }
}

/// <summary>A score for every edge of a <see cref="ComputationalGraph"/> (zero where writer and reader are not joined).</summary>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public sealed class EdgeScores
{
    internal EdgeScores(ComputationalGraph graph, float[] values)
    {
        Graph = graph;
        _values = values;
    }

    private readonly float[] _values;

    /// <summary>The graph scored.</summary>
    public ComputationalGraph Graph { get; }

    /// <summary>Scores [writers, readers] as a float32 CPU tensor.</summary>
    public Tensor ToTensor() => Tensor.FromArray((float[])_values.Clone(), Graph.Writers.Count, Graph.Readers.Count);

    /// <summary>The score of edge writer <paramref name="u"/> → reader <paramref name="v"/>.</summary>
    /// <param name="u">Writer index.</param>
    /// <param name="v">Reader index.</param>
    public float this[int u, int v] => _values[u * Graph.Readers.Count + v];

    /// <summary>The <paramref name="k"/> edges of largest |score|, best first.</summary>
    /// <param name="k">How many.</param>
    public IReadOnlyList<Edge> Top(int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), $"k must be non-negative, got {k}");
        int readers = Graph.Readers.Count;
        return Enumerable.Range(0, _values.Length).Where(i => Graph.IsEdge(i / readers, i % readers))
            .OrderByDescending(i => Math.Abs(_values[i])).ThenBy(i => i).Take(k)
            .Select(i => new Edge(i / readers, i % readers, Graph.Writers[i / readers].Name, Graph.Readers[i % readers].Name, _values[i])).ToList();
    }
}

/// <summary>An edge of a <see cref="ComputationalGraph"/> with its score.</summary>
/// <param name="Writer">Writer index.</param>
/// <param name="Reader">Reader index.</param>
/// <param name="From">Writer name.</param>
/// <param name="To">Reader name.</param>
/// <param name="Score">Attribution score.</param>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public sealed record Edge(int Writer, int Reader, string From, string To, float Score);
