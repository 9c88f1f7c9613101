using MechInterp.Backends;

namespace MechInterp.Loading.Architectures;

/// <summary>
/// Puts the TransformerLens-layout tensors an architecture converted from a checkpoint into a model's parameters
/// (the loading counterpart of <c>LoadStateDict</c>, which copies). A tensor already in the parameter's stored
/// layout is adopted as is; a memory-mapped tensor (or a view of one) that GEMM can read directly — contiguous, or a
/// matrix with a unit stride along one of its two dims (a transposed nn.Linear weight, a narrowed fused q|k|v) —
/// stays mapped; everything else becomes a contiguous copy, as <c>LoadStateDict</c> would make it. Two parameters
/// never share elements: a tied weight (W_U as the transpose of W_E) gets elements of its own, so that an in-place
/// update of one (an optimizer step) cannot change the other, exactly as after a copying load: a second copy-on-write
/// mapping of the file when the tensor is mapped (nothing is copied), a copy otherwise. Disjoint views of one tensor (W_Q, W_K,
/// W_V narrowed from a fused q|k|v) may share a storage.
/// </summary>
internal static class ParameterImport
{
    /// <summary>Runs the conversion, checks names and shapes, and fills the parameters.</summary>
    /// <param name="expected">The model's parameters by full name.</param>
    /// <param name="weights">The converted tensors, produced lazily (read and converted while enumerating).</param>
    /// <param name="tlShape">The TransformerLens shape of a parameter given its name and stored shape.</param>
    /// <param name="toStored">TransformerLens layout → stored layout, by name (views where the strides allow).</param>
    /// <param name="device">The model's device.</param>
    /// <param name="progress">Reports each tensor converted.</param>
    /// <param name="unexpectedHint">Added to the message when the checkpoint yields a name the model lacks.</param>
    /// <param name="configSummary">The config's sizes, named in the message when conversion fails on a shape.</param>
    public static void Load(IReadOnlyList<(string Name, Parameter Parameter)> expected, IEnumerable<(string Name, Tensor Value)> weights,
        Func<string, long[], long[]> tlShape, Func<string, Tensor, Tensor> toStored, Device device,
        IProgress<LoadProgress>? progress, Func<IReadOnlyList<string>, string>? unexpectedHint = null, string? configSummary = null)
    {
        var produced = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var adopted = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var kept = new List<Tensor>(); // managed-CPU parameter values so far, to keep them from sharing elements
        // The scope frees what conversion made on the way (the fused q|k|v a head was narrowed from, the source of a
        // transpose...): on the managed device each holds a reference on a mapped file or a pooled buffer.
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        try
        {
            string? last = null;
            try
            {
                foreach (var (name, value) in weights)
                {
                    if (produced.TryGetValue(name, out var previous)) previous.Dispose();
                    produced[name] = value.DetachFromScopes();
                    last = name;
                    progress?.Report(new LoadProgress("weights", produced.Count, expected.Count, name));
                }
            }
            catch (Exception e) when (configSummary is not null && e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                throw ConfigWeightsCheck.ConversionFailed(e, last, configSummary);
            }
            var missing = expected.Select(e => e.Name).Where(n => !produced.ContainsKey(n)).ToList();
            if (missing.Count > 0)
                throw new InvalidDataException($"the checkpoint's conversion lacks {missing.Count} parameter(s): {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}");
            var unexpected = produced.Keys.Except(expected.Select(e => e.Name)).ToList();
            if (unexpected.Count > 0)
                throw new InvalidDataException($"the checkpoint's conversion has {unexpected.Count} parameter(s) this model does not: {string.Join(", ", unexpected.Take(8))}{unexpectedHint?.Invoke(unexpected)}");
            foreach (var (name, p) in expected)
            {
                var tl = produced[name];
                var want = tlShape(name, p.Value.Shape);
                if (!tl.Shape.AsSpan().SequenceEqual(want))
                    throw new InvalidDataException($"parameter '{name}' should have shape {Tensor.ShapeString(want)}, the checkpoint gives {Tensor.ShapeString(tl.Shape)}" + (configSummary is null ? "" : $": config.json ({configSummary}) does not match these weights"));
                var stored = toStored(name, tl.To(device).To(p.Value.DType));
                if (!StorageFacts.IsGemmReadyMapped(stored)) stored = stored.Contiguous();
                if (StorageFacts.IsManaged(stored))
                {
                    var candidate = stored;
                    if (kept.Any(k => StorageFacts.MayShareElements(k, candidate))) stored = StorageFacts.SeparateStorage(stored);
                    kept.Add(stored);
                }
                else if (adopted.Contains(stored)) stored = stored.Clone();
                adopted.Add(stored);
                p.Reset(stored);
            }
        }
        finally
        {
            foreach (var t in produced.Values)
                if (!adopted.Contains(t)) t.Dispose();
        }
    }

}
