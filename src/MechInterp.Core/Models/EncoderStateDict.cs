namespace MechInterp;

/// <summary>Loads a TransformerLens-layout state dict into a <see cref="HookedEncoder"/> (attention weights per head,
/// <c>mlm_head.W</c> as [d_model_out, d_model_in]), checking names and shapes.</summary>
internal static class EncoderStateDict
{
    public static void Import(HookedEncoder model, IReadOnlyDictionary<string, Tensor> stateDict)
    {
        var expected = model.NamedParameters().ToList();
        var missing = expected.Select(e => e.Name).Where(n => !stateDict.ContainsKey(n)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"state dict lacks {missing.Count} parameter(s): {string.Join(", ", missing.Take(8))}{(missing.Count > 8 ? ", ..." : "")}");
        var unexpected = stateDict.Keys.Except(expected.Select(e => e.Name)).ToList();
        if (unexpected.Count > 0)
            throw new ArgumentException($"state dict has {unexpected.Count} parameter(s) this encoder does not: {string.Join(", ", unexpected.Take(8))}" +
                (unexpected.Any(u => u.StartsWith("mlm_head.", StringComparison.Ordinal) || u.StartsWith("unembed.", StringComparison.Ordinal)) ? " (create the encoder with withMlmHead: true)" : ""));
        var c = model.Config;
        foreach (var (name, p) in expected)
        {
            var tl = stateDict[name];
            var want = name == "mlm_head.W" ? p.Value.Shape : StateDictMapping.ToTransformerLensShape(c, name, p.Value.Shape);
            if (!tl.Shape.AsSpan().SequenceEqual(want))
                throw new ArgumentException($"parameter '{name}' should have shape {Tensor.ShapeString(want)}, got {Tensor.ShapeString(tl.Shape)}");
            using var _ = GradMode.NoGrad();
            var moved = tl.To(model.Device).To(p.Value.DType);
            var stored = (name == "mlm_head.W" ? moved.T : StateDictMapping.FromTransformerLens(c, name, moved)).Contiguous();
            if (ReferenceEquals(stored, tl)) stored = stored.Clone();
            p.Reset(stored);
        }
    }
}
