namespace MechInterp.Patching;

// The TransformerLens family of named sweeps (patching.get_act_patch_*): each only names an activation and its axes.
public static partial class ActivationPatching
{
    private static readonly PatchAxis[] s_pos = [PatchAxis.Pos];
    private static readonly PatchAxis[] s_head = [PatchAxis.Head];
    private static readonly PatchAxis[] s_posHead = [PatchAxis.Pos, PatchAxis.Head];

    /// <summary>Each layer's <c>hook_resid_pre</c> at each position → [n_layers, pos] (get_act_patch_resid_pre).</summary>
    /// <param name="model">The model.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run that is patched (corrupted for denoising).</param>
    /// <param name="sourceCache">The source run's cache (<c>model.RunWithCache(sourceTokens)</c>).</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="options">Batching, start layer and progress.</param>
    public static Tensor ResidPre(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "resid_pre", s_pos, options);

    /// <summary>Each layer's <c>hook_resid_mid</c> at each position → [n_layers, pos] (get_act_patch_resid_mid).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor ResidMid(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "resid_mid", s_pos, options);

    /// <summary>Each layer's <c>hook_resid_post</c> at each position → [n_layers, pos].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor ResidPost(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "resid_post", s_pos, options);

    /// <summary>Each layer's <c>hook_attn_out</c> at each position → [n_layers, pos] (get_act_patch_attn_out).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnOut(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "attn_out", s_pos, options);

    /// <summary>Each layer's <c>hook_mlp_out</c> at each position → [n_layers, pos] (get_act_patch_mlp_out).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor MlpOut(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "mlp_out", s_pos, options);

    /// <summary>Each head's output (<c>attn.hook_z</c>) at every position at once → [n_layers, n_heads]
    /// (get_act_patch_attn_head_out_all_pos).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadOutAllPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "z", s_head, options);

    /// <summary>Each head's output (<c>attn.hook_z</c>) at each position → [n_layers, pos, n_heads]
    /// (get_act_patch_attn_head_out_by_pos).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadOutByPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "z", s_posHead, options);

    /// <summary>Each head's queries (<c>attn.hook_q</c>) at every position → [n_layers, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadQAllPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "q", s_head, options);

    /// <summary>Each key head's keys (<c>attn.hook_k</c>) at every position → [n_layers, n_key_value_heads] (n_heads
    /// without grouped-query attention).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadKAllPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "k", s_head, options);

    /// <summary>Each value head's values (<c>attn.hook_v</c>) at every position → [n_layers, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadVAllPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "v", s_head, options);

    /// <summary>Each head's attention pattern (<c>attn.hook_pattern</c>), whole → [n_layers, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadPatternAllPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "pattern", s_head, options);

    /// <summary>Each head's queries at each position → [n_layers, pos, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadQByPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "q", s_posHead, options);

    /// <summary>Each key head's keys at each position → [n_layers, pos, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadKByPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "k", s_posHead, options);

    /// <summary>Each value head's values at each position → [n_layers, pos, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadVByPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "v", s_posHead, options);

    /// <summary>Each head's attention pattern row of each query (destination) position → [n_layers, dest_pos, n_heads]
    /// (get_act_patch_attn_head_pattern_by_pos, with its axes in by-position order).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadPatternByPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "pattern", [PatchAxis.DestPos, PatchAxis.Head], options);

    /// <summary>Each single attention weight (head, query position, key position) → [n_layers, n_heads, dest_pos, src_pos]
    /// (get_act_patch_attn_head_pattern_dest_src_pos).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadPatternDestSrcPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "pattern", [PatchAxis.Head, PatchAxis.DestPos, PatchAxis.SrcPos], options);

    /// <summary>Each MLP neuron (<c>mlp.hook_post</c>) at every position → [n_layers, d_mlp].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor MlpNeuronsAllPos(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Generic(model, baseTokens, sourceCache, metric, "post", [PatchAxis.Neuron], options);

    /// <summary>resid_pre, attn_out and mlp_out by layer and position, stacked → [3, n_layers, pos] (get_act_patch_block_every).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor BlockEvery(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Tensor.Stack([ResidPre(model, baseTokens, sourceCache, metric, options), AttnOut(model, baseTokens, sourceCache, metric, options),
            MlpOut(model, baseTokens, sourceCache, metric, options)]);

    /// <summary>Heads' z, q, k, v and pattern at every position, stacked → [5, n_layers, n_heads]
    /// (get_act_patch_attn_head_all_pos_every). Needs as many key/value heads as query heads.</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadAllPosEvery(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        StackSameShape("AttnHeadAllPosEvery", [AttnHeadOutAllPos(model, baseTokens, sourceCache, metric, options), AttnHeadQAllPos(model, baseTokens, sourceCache, metric, options),
            AttnHeadKAllPos(model, baseTokens, sourceCache, metric, options), AttnHeadVAllPos(model, baseTokens, sourceCache, metric, options),
            AttnHeadPatternAllPos(model, baseTokens, sourceCache, metric, options)]);

    /// <summary>Heads' z, q, k, v by position and the pattern by query position, stacked → [5, n_layers, pos, n_heads]
    /// (get_act_patch_attn_head_by_pos_every). Needs as many key/value heads as query heads.</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadByPosEvery(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        StackSameShape("AttnHeadByPosEvery", [AttnHeadOutByPos(model, baseTokens, sourceCache, metric, options), AttnHeadQByPos(model, baseTokens, sourceCache, metric, options),
            AttnHeadKByPos(model, baseTokens, sourceCache, metric, options), AttnHeadVByPos(model, baseTokens, sourceCache, metric, options),
            AttnHeadPatternByPos(model, baseTokens, sourceCache, metric, options)]);

    private static Tensor StackSameShape(string what, Tensor[] parts)
    {
        if (parts.Any(p => !p.Shape.SequenceEqual(parts[0].Shape)))
            throw new NotSupportedException($"{what} stacks sweeps of equal shape, but this model's are {string.Join(", ", parts.Select(p => Tensor.ShapeString(p.Shape)))} " +
                "(grouped-query attention has fewer key/value heads): call the single sweeps instead");
        return Tensor.Stack(parts);
    }
}
