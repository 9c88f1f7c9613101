namespace MechInterp;

/// <summary>Converts between the stored (GEMM-ready) parameter layout and TransformerLens's state-dict layout.</summary>
internal static class StateDictMapping
{
    public static Dictionary<string, Tensor> Export(HookedTransformer model)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in model.NamedParameters())
            result[name] = ToTransformerLens(model.Config, name, p.Value);
        return result;
    }

    public static void Import(HookedTransformer model, IReadOnlyDictionary<string, Tensor> stateDict)
    {
        var expected = model.NamedParameters().ToList();
        var missing = expected.Select(e => e.Name).Where(n => !stateDict.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"state dict lacks {missing.Count} parameter(s): {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}");
        var unexpected = stateDict.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (unexpected.Count > 0)
            throw new ArgumentException($"state dict has {unexpected.Count} parameter(s) this model does not: {string.Join(", ", unexpected.Take(8))}");
        foreach (var (name, p) in expected)
        {
            var tl = stateDict[name];
            var want = ToTransformerLensShape(model.Config, name, p.Value.Shape);
            if (!tl.Shape.AsSpan().SequenceEqual(want))
                throw new ArgumentException($"parameter '{name}' should have shape {Tensor.ShapeString(want)}, got {Tensor.ShapeString(tl.Shape)}");
            using var _ = GradMode.NoGrad();
            var stored = FromTransformerLens(model.Config, name, tl.To(model.Device).To(p.Value.DType)).Contiguous();
            if (ReferenceEquals(stored, tl)) stored = stored.Clone();
            p.Reset(stored);
        }
    }

    private static string Suffix(string name) => name[(name.LastIndexOf('.') + 1)..];

    internal static long[] ToTransformerLensShape(HookedTransformerConfig c, string name, long[] stored) =>
        Suffix(name) switch
        {
            "W_Q" when name.Contains(".attn.") => [c.NHeads, c.DModel, c.DHead],
            "W_K" or "W_V" when name.Contains(".attn.") => [c.KvHeads, c.DModel, c.DHead],
            "W_O" when name.Contains(".attn.") => [c.NHeads, c.DHead, c.DModel],
            "b_Q" => [c.NHeads, c.DHead],
            "b_K" or "b_V" => [c.KvHeads, c.DHead],
            _ => stored,
        };

    public static Tensor ToTransformerLens(HookedTransformerConfig c, string name, Tensor v) => Suffix(name) switch
    {
        "W_Q" when name.Contains(".attn.") => v.Reshape(c.DModel, c.NHeads, c.DHead).Permute(1, 0, 2).Contiguous(),
        "W_K" or "W_V" when name.Contains(".attn.") => v.Reshape(c.DModel, c.KvHeads, c.DHead).Permute(1, 0, 2).Contiguous(),
        "W_O" when name.Contains(".attn.") => v.Reshape(c.NHeads, c.DHead, c.DModel),
        "b_Q" => v.Reshape(c.NHeads, c.DHead),
        "b_K" or "b_V" => v.Reshape(c.KvHeads, c.DHead),
        _ => v,
    };

    /// <summary>TransformerLens layout → stored layout; <paramref name="reshape"/> replaces <see cref="Tensor.Reshape"/>
    /// (loading passes one that keeps strided views of memory-mapped weights).</summary>
    public static Tensor FromTransformerLens(HookedTransformerConfig c, string name, Tensor v, Func<Tensor, long[], Tensor>? reshape = null)
    {
        reshape ??= static (t, shape) => t.Reshape(shape);
        return Suffix(name) switch
        {
            "W_Q" when name.Contains(".attn.") => reshape(v.Permute(1, 0, 2), [c.DModel, c.NHeads * c.DHead]),
            "W_K" or "W_V" when name.Contains(".attn.") => reshape(v.Permute(1, 0, 2), [c.DModel, c.KvHeads * c.DHead]),
            "W_O" when name.Contains(".attn.") => reshape(v, [c.NHeads * c.DHead, c.DModel]),
            "b_Q" => reshape(v, [c.NHeads * c.DHead]),
            "b_K" or "b_V" => reshape(v, [c.KvHeads * c.DHead]),
            _ => v,
        };
    }
}
