using MechInterp.Attribution;
using MechInterp.Patching;

namespace MechInterp.Circuits;

/// <summary>
/// Path patching (Wang et al. 2022, the IOI paper): the effect of sender components on chosen receivers through the
/// direct paths between them only, everything else frozen.
/// </summary>
/// <remarks>
/// <para>Wang et al. run three passes: cache both runs; run the base prompts with the senders patched from the source
/// and every other component frozen at its base value, recording the receivers' inputs; run the base prompts again with
/// only the receivers' inputs replaced by those records, letting everything after them respond. Since a receiver's input
/// is the sum of what every earlier writer sent it, that is the same as changing one term of the sum: the receiver reads
/// <c>in − a_sender,base + a_sender,source</c> and nothing else changes before it. Here it is exactly that, on the
/// <see cref="ComputationalGraph"/>'s edges (one pass; the model must be loaded with per-head results and split inputs).</para>
/// <para>Senders are writer names ("embed", "a{layer}.h{head}", "m{layer}"); receivers are reader names
/// ("a{layer}.h{head}.q", "a{layer}.h{head}.k" / ".v", or "a{layer}.g{group}.k" under grouped-query attention, "m{layer}",
/// "logits"), or a head name "a{layer}.h{head}" for its query, key and value inputs together.</para>
/// </remarks>
[System.Diagnostics.CodeAnalysis.Experimental(Experimental.Circuits)]
public static class PathPatching
{
    /// <summary>The metric of <paramref name="baseTokens"/> with the senders' direct paths into the receivers carrying
    /// the source run's sender outputs.</summary>
    /// <param name="model">The model (loaded as <see cref="ComputationalGraph.For"/> requires).</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run that is patched (clean in IOI's usage).</param>
    /// <param name="sourceCache">Cache of the source run holding the senders' hooks (<c>model.RunWithCache(corruptedTokens)</c>).</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="senders">Writer names.</param>
    /// <param name="receivers">Reader names (or head names for all three inputs).</param>
    /// <exception cref="ArgumentException">A name is not a node of the graph, or no sender precedes any receiver.</exception>
    public static float Run(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric,
        IEnumerable<string> senders, IEnumerable<string> receivers)
    {
        var graph = ComputationalGraph.For(model);
        var from = Resolve(senders, graph.Writers.Select(w => w.Name).ToList(), "sender", _ => null);
        var to = Resolve(receivers, graph.Readers.Select(r => r.Name).ToList(), "receiver", name => HeadInputs(graph, name));
        var cut = new HashSet<(int, int)>(from.SelectMany(u => to.Where(v => graph.IsEdge(u, v)).Select(v => (u, v))));
        if (cut.Count == 0)
            throw new ArgumentException("no sender comes before any receiver: a path runs from an earlier writer to a later reader");
        var kept = Enumerable.Range(0, graph.Writers.Count)
            .SelectMany(u => Enumerable.Range(0, graph.Readers.Count).Where(v => graph.IsEdge(u, v) && !cut.Contains((u, v))).Select(v => (u, v)));
        return CircuitEvaluation.Run(model, baseTokens, sourceCache, metric, kept);
    }

    /// <summary>Every head as the sender, one at a time, into fixed receivers → [n_layers, n_heads] metric values (heads
    /// that come after every receiver give the base metric).</summary>
    /// <param name="model">The model.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run that is patched.</param>
    /// <param name="sourceCache">Cache of the source run holding the heads' results.</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="receivers">Reader names (or head names).</param>
    /// <param name="progress">Reports heads done.</param>
    public static Tensor SenderHeads(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric,
        IReadOnlyCollection<string> receivers, IProgress<PatchingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        int layers = model.Config.NLayers, heads = model.Config.NHeads;
        var graph = ComputationalGraph.For(model);
        var to = Resolve(receivers, graph.Readers.Select(r => r.Name).ToList(), "receiver", name => HeadInputs(graph, name));
        float? baseMetric = null;
        var results = new float[layers * heads];
        for (int l = 0; l < layers; l++)
            for (int h = 0; h < heads; h++)
            {
                int u = graph.Writers.ToList().FindIndex(w => w.Name == $"a{l}.h{h}");
                if (to.Any(v => graph.IsEdge(u, v)))
                    results[l * heads + h] = Run(model, baseTokens, sourceCache, metric, [$"a{l}.h{h}"], receivers);
                else
                    results[l * heads + h] = baseMetric ??= CircuitEvaluation.Run(model, baseTokens, sourceCache, metric, AllEdges(graph));
                progress?.Report(new PatchingProgress(l * heads + h + 1, layers * heads, ActName.Result(l)));
            }
        return Tensor.FromArray(results, layers, heads);
    }

    private static IEnumerable<(int, int)> AllEdges(ComputationalGraph graph) =>
        Enumerable.Range(0, graph.Writers.Count).SelectMany(u => Enumerable.Range(0, graph.Readers.Count).Where(v => graph.IsEdge(u, v)).Select(v => (u, v)));

    /// <summary>A head name's query, key and value inputs (the key/value ones of its group).</summary>
    private static int[]? HeadInputs(ComputationalGraph graph, string name)
    {
        var parts = name.Split('.');
        if (parts.Length != 2 || !parts[0].StartsWith('a') || !parts[1].StartsWith('h') || !int.TryParse(parts[1].AsSpan(1), out int head)) return null;
        var q = graph.Readers.ToList().FindIndex(r => r.Name == $"{name}.q");
        if (q < 0) return null;
        int group = graph.Readers.Count(r => r.Name.StartsWith(parts[0] + ".", StringComparison.Ordinal) && r.Name.EndsWith(".q", StringComparison.Ordinal))
            / Math.Max(1, graph.Readers.Count(r => r.Name.StartsWith(parts[0] + ".", StringComparison.Ordinal) && r.Name.EndsWith(".k", StringComparison.Ordinal)));
        string kv = group == 1 ? $"h{head}" : $"g{head / group}";
        return [q, .. new[] { "k", "v" }.Select(s => graph.Readers.ToList().FindIndex(r => r.Name == $"{parts[0]}.{kv}.{s}"))];
    }

    private static List<int> Resolve(IEnumerable<string> names, List<string> known, string what, Func<string, int[]?> expand)
    {
        ArgumentNullException.ThrowIfNull(names);
        var result = new List<int>();
        foreach (var n in names)
        {
            int i = known.IndexOf(n);
            if (i >= 0) { result.Add(i); continue; }
            if (expand(n) is { } many) { result.AddRange(many); continue; }
            throw new ArgumentException($"'{n}' is not a {what} of this model's graph; {what}s are e.g. {string.Join(", ", known.Take(4))}, ..., {known[^1]}");
        }
        if (result.Count == 0) throw new ArgumentException($"name at least one {what}");
        return result;
    }
}
