namespace MechInterp.Models.Components;

/// <summary>
/// A post-LN encoder block (TransformerLens's BertBlock): <c>resid_mid = resid_pre + attn_out</c>,
/// <c>resid_post = ln1(resid_mid) + mlp_out</c> with <c>mlp_out = mlp(ln1(resid_mid))</c>, and the block's output
/// <c>hook_normalized_resid_post = ln2(resid_post)</c>. Note that <c>hook_resid_post</c> is taken before ln2.
/// Attention is bidirectional; the padding mask comes from the <see cref="AttentionContext"/>.
/// </summary>
public sealed class BertBlock : Module
{
    private readonly HookedTransformerConfig _cfg;

    /// <summary>Creates block <paramref name="layer"/>.</summary>
    public BertBlock(HookedTransformerConfig cfg, int layer, Device device) : base($"blocks.{layer}")
    {
        _cfg = cfg;
        Layer = layer;
        Attn = Child("attn", new Attention(FullName("attn"), cfg, layer, device));
        Ln1 = Child("ln1", new Normalization(FullName("ln1"), cfg.NormalizationType, cfg.DModel, cfg.Eps, device));
        Mlp = Child("mlp", new Mlp(FullName("mlp"), cfg, device));
        Ln2 = Child("ln2", new Normalization(FullName("ln2"), cfg.NormalizationType, cfg.DModel, cfg.Eps, device));
        HookResidPre = Hook("hook_resid_pre");
        if (cfg.UseSplitQkvInput)
        {
            HookQInput = Hook("hook_q_input"); HookKInput = Hook("hook_k_input"); HookVInput = Hook("hook_v_input");
        }
        HookAttnOut = Hook("hook_attn_out");
        HookResidMid = Hook("hook_resid_mid");
        if (cfg.UseHookMlpIn) HookMlpIn = Hook("hook_mlp_in");
        HookMlpOut = Hook("hook_mlp_out");
        HookResidPost = Hook("hook_resid_post");
        HookNormalizedResidPost = Hook("hook_normalized_resid_post");
    }

    /// <summary>Layer index.</summary>
    public int Layer { get; }
    /// <summary>Self-attention (bidirectional).</summary>
    public Attention Attn { get; }
    /// <summary>LayerNorm after attention (HF attention.output.LayerNorm).</summary>
    public Normalization Ln1 { get; }
    /// <summary>The MLP (HF intermediate.dense → act → output.dense).</summary>
    public Mlp Mlp { get; }
    /// <summary>LayerNorm after the MLP (HF output.LayerNorm).</summary>
    public Normalization Ln2 { get; }
    /// <summary>hook_resid_pre.</summary>
    public HookPoint HookResidPre { get; }
    /// <summary>hook_q_input (UseSplitQkvInput).</summary>
    public HookPoint? HookQInput { get; }
    /// <summary>hook_k_input (UseSplitQkvInput).</summary>
    public HookPoint? HookKInput { get; }
    /// <summary>hook_v_input (UseSplitQkvInput).</summary>
    public HookPoint? HookVInput { get; }
    /// <summary>hook_attn_out.</summary>
    public HookPoint HookAttnOut { get; }
    /// <summary>hook_resid_mid (resid_pre + attn_out, before ln1).</summary>
    public HookPoint HookResidMid { get; }
    /// <summary>hook_mlp_in (UseHookMlpIn): the un-normalised resid_mid entering ln1.</summary>
    public HookPoint? HookMlpIn { get; }
    /// <summary>hook_mlp_out.</summary>
    public HookPoint HookMlpOut { get; }
    /// <summary>hook_resid_post (ln1(resid_mid) + mlp_out, before ln2).</summary>
    public HookPoint HookResidPost { get; }
    /// <summary>hook_normalized_resid_post: the block's output, ln2(resid_post).</summary>
    public HookPoint HookNormalizedResidPost { get; }

    /// <summary>Runs the block on the residual stream [batch, pos, d_model].</summary>
    public Tensor Forward(Tensor residPre, AttentionContext context)
    {
        residPre = HookResidPre.Invoke(residPre);
        Tensor attnOut;
        if (HookQInput is not null)
        {
            var perHead = residPre.Unsqueeze(2).Expand(residPre.Shape[0], residPre.Shape[1], _cfg.NHeads, residPre.Shape[2]);
            attnOut = Attn.Forward(HookQInput.Invoke(perHead), HookKInput!.Invoke(perHead), HookVInput!.Invoke(perHead), context);
        }
        else attnOut = Attn.Forward(residPre, residPre, residPre, context);
        attnOut = HookAttnOut.Invoke(attnOut);
        var residMid = HookResidMid.Invoke(residPre + attnOut);
        var mlpIn = HookMlpIn?.Invoke(residMid) ?? residMid;
        var normalizedMid = Ln1.Forward(mlpIn);
        var mlpOut = HookMlpOut.Invoke(Mlp.Forward(normalizedMid));
        var residPost = HookResidPost.Invoke(normalizedMid + mlpOut);
        return HookNormalizedResidPost.Invoke(Ln2.Forward(residPost));
    }
}
