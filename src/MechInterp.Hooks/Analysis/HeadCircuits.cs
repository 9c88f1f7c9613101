namespace MechInterp.Analysis;

/// <summary>Which input of a later head reads an earlier head's output (Elhage et al. 2021).</summary>
public enum CompositionType
{
    /// <summary>The later head's queries (OV₁·QK₂).</summary>
    Q,
    /// <summary>The later head's keys (OV₁·QK₂ᵀ): the composition of an induction head with a previous-token head.</summary>
    K,
    /// <summary>The later head's values (OV₁·OV₂).</summary>
    V,
}

/// <summary>
/// Every head's QK and OV circuits as <see cref="FactoredMatrix"/> [n_layers, n_heads, d_model, d_model] and the
/// composition scores between heads of different layers (TransformerLens's model.QK, model.OV and
/// all_composition_scores). These read the model's weights, so they need a <see cref="HookedTransformer"/>.
/// </summary>
public static class HeadCircuits
{
    /// <summary>QK = W_Q·W_Kᵀ per head [n_layers, n_heads, d_model (query side), d_model (key side)]; grouped
    /// key/value heads are repeated for the query heads that share them.</summary>
    public static FactoredMatrix QK(this HookedTransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var q = Tensor.Stack(model.Blocks.Select(b => b.Attn.W_Q).ToArray());           // [L, H, d_model, d_head]
        var k = Tensor.Stack(model.Blocks.Select(b => PerQueryHead(model, b.Attn.W_K)).ToArray()); // [L, H, d_model, d_head]
        return new FactoredMatrix(q, k.T);
    }

    /// <summary>OV = W_V·W_O per head [n_layers, n_heads, d_model (input), d_model (output)].</summary>
    public static FactoredMatrix OV(this HookedTransformer model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var v = Tensor.Stack(model.Blocks.Select(b => PerQueryHead(model, b.Attn.W_V)).ToArray()); // [L, H, d_model, d_head]
        var o = Tensor.Stack(model.Blocks.Select(b => b.Attn.W_O).ToArray());                     // [L, H, d_head, d_model]
        return new FactoredMatrix(v, o);
    }

    /// <summary>The composition score ‖left·right‖_F / (‖left‖_F ‖right‖_F) of each batch element.</summary>
    public static Tensor CompositionScore(FactoredMatrix left, FactoredMatrix right)
    {
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        return left.MatMul(right).Norm() / (left.Norm() * right.Norm());
    }

    /// <summary>
    /// The <paramref name="type"/>-composition score of every pair of heads [n_layers, n_heads, n_layers, n_heads]:
    /// entry [l1, h1, l2, h2] scores how much head (l2, h2) reads head (l1, h1)'s output through its queries, keys or
    /// values; zero unless l1 &lt; l2. Scores of random matrices are about 1/√d_model; larger ones mark composition.
    /// </summary>
    public static Tensor AllCompositionScores(this HookedTransformer model, CompositionType type)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var noGrad = GradMode.NoGrad();
        int layers = model.Config.NLayers, heads = model.Config.NHeads;
        var ov = model.OV();
        var right = type switch { CompositionType.Q => model.QK(), CompositionType.K => model.QK().T, _ => ov };
        var rows = new List<Tensor>();
        for (int l = 0; l < layers; l++)
        {
            using var scope = Tensor.Scope();
            var left = ov[l];                                            // [H, d_model, d_model]
            var pairs = new FactoredMatrix(left.A.Unsqueeze(1).Unsqueeze(1), left.B.Unsqueeze(1).Unsqueeze(1)); // [H, 1, 1, ...]
            var scores = CompositionScore(pairs, new FactoredMatrix(right.A.Unsqueeze(0), right.B.Unsqueeze(0))); // [H, L, H]
            var later = (Tensor.Arange(layers, device: scores.Device) > l).To(scores.DType).Reshape(1, layers, 1);
            var row = scores * later;
            scope.MoveOut(row);
            rows.Add(row);
        }
        return Tensor.Stack(rows); // [L, H, L, H]
    }

    private static Tensor PerQueryHead(HookedTransformer model, Tensor kv) // [kv_heads, d_model, d_head] -> [heads, ...]
    {
        int groups = model.Config.NHeads / model.Config.KvHeads;
        if (groups == 1) return kv;
        var shape = kv.Shape;
        return kv.Unsqueeze(1).Expand(shape[0], groups, shape[1], shape[2]).Reshape(model.Config.NHeads, shape[1], shape[2]);
    }
}
