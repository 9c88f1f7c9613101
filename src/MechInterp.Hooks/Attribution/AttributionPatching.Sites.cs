using MechInterp.Patching;

namespace MechInterp.Attribution;

// The named estimates, one per activation-patching sweep (same shapes as ActivationPatching's).
public static partial class AttributionPatching
{
    /// <summary>AtP of each layer's <c>hook_resid_pre</c> at each position → [n_layers, pos]: Σ over prompts and d_model
    /// of grad · (source − base).</summary>
    /// <param name="model">The model.</param>
    /// <param name="sourceTokens">Token ids [batch, pos] whose activations are patched in (clean for denoising).</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run whose gradient is taken (corrupted for denoising).</param>
    /// <param name="metric">Differentiable map of logits [batch, pos, d_vocab] to one number.</param>
    public static Tensor ResidPre(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "resid_pre", [PatchAxis.Pos]);

    /// <summary>AtP of each layer's <c>hook_resid_mid</c> at each position → [n_layers, pos].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor ResidMid(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "resid_mid", [PatchAxis.Pos]);

    /// <summary>AtP of each layer's <c>hook_resid_post</c> at each position → [n_layers, pos].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor ResidPost(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "resid_post", [PatchAxis.Pos]);

    /// <summary>AtP of each layer's <c>hook_attn_out</c> at each position → [n_layers, pos].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnOut(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "attn_out", [PatchAxis.Pos]);

    /// <summary>AtP of each layer's <c>hook_mlp_out</c> at each position → [n_layers, pos].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor MlpOut(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "mlp_out", [PatchAxis.Pos]);

    /// <summary>AtP of each head's <c>hook_z</c> at every position → [n_layers, n_heads] (summed over prompts, positions and d_head).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadOutAllPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "z", [PatchAxis.Head]);

    /// <summary>AtP of each head's <c>hook_z</c> at each position → [n_layers, pos, n_heads] (summed over prompts and d_head).</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadOutByPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "z", [PatchAxis.Pos, PatchAxis.Head]);

    /// <summary>AtP of each head's queries at every position → [n_layers, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadQAllPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "q", [PatchAxis.Head]);

    /// <summary>AtP of each key head's keys at every position → [n_layers, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadKAllPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "k", [PatchAxis.Head]);

    /// <summary>AtP of each value head's values at every position → [n_layers, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadVAllPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "v", [PatchAxis.Head]);

    /// <summary>AtP of each head's whole attention pattern → [n_layers, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadPatternAllPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "pattern", [PatchAxis.Head]);

    /// <summary>AtP of each head's queries at each position → [n_layers, pos, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadQByPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "q", [PatchAxis.Pos, PatchAxis.Head]);

    /// <summary>AtP of each key head's keys at each position → [n_layers, pos, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadKByPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "k", [PatchAxis.Pos, PatchAxis.Head]);

    /// <summary>AtP of each value head's values at each position → [n_layers, pos, n_key_value_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadVByPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "v", [PatchAxis.Pos, PatchAxis.Head]);

    /// <summary>AtP of each head's pattern row at each query position → [n_layers, dest_pos, n_heads].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadPatternByPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "pattern", [PatchAxis.DestPos, PatchAxis.Head]);

    /// <summary>AtP of each single attention weight → [n_layers, n_heads, dest_pos, src_pos].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor AttnHeadPatternDestSrcPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "pattern", [PatchAxis.Head, PatchAxis.DestPos, PatchAxis.SrcPos]);

    /// <summary>AtP of each MLP neuron (<c>mlp.hook_post</c>) at every position → [n_layers, d_mlp].</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    public static Tensor MlpNeuronsAllPos(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        Generic(model, sourceTokens, baseTokens, metric, "post", [PatchAxis.Neuron]);
}
