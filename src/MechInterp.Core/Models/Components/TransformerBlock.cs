namespace MechInterp.Models.Components;

/// <summary>
/// One block (TransformerLens's TransformerBlock): sequential (<c>resid_mid = resid_pre + attn_out</c>,
/// <c>resid_post = resid_mid + mlp_out</c>) or parallel (<c>resid_post = resid_pre + attn_out + mlp_out</c>),
/// optionally with Gemma 2's extra norms after attention and MLP (ln1_post, ln2_post).
/// </summary>
public sealed class TransformerBlock : Module
{
    private readonly HookedTransformerConfig _cfg;

    /// <summary>Creates block <paramref name="layer"/>.</summary>
    public TransformerBlock(HookedTransformerConfig cfg, int layer, Device device) : base($"blocks.{layer}")
    {
        _cfg = cfg;
        Layer = layer;
        var norm = cfg.NormalizationType;
        Ln1 = Child("ln1", new Normalization(FullName("ln1"), norm, cfg.DModel, cfg.Eps, device));
        if (cfg.UseNormalizationBeforeAndAfter)
            Ln1Post = Child("ln1_post", new Normalization(FullName("ln1_post"), norm, cfg.DModel, cfg.Eps, device));
        if (cfg.HasMlp)
        {
            Ln2 = Child("ln2", new Normalization(FullName("ln2"), norm, cfg.DModel, cfg.Eps, device));
            if (cfg.UseNormalizationBeforeAndAfter)
                Ln2Post = Child("ln2_post", new Normalization(FullName("ln2_post"), norm, cfg.DModel, cfg.Eps, device));
        }
        Attn = Child("attn", new Attention(FullName("attn"), cfg, layer, device));
        if (cfg.HasMlp) Mlp = Child("mlp", new Mlp(FullName("mlp"), cfg, device));
        HookResidPre = Hook("hook_resid_pre");
        if (cfg.UseSplitQkvInput)
        {
            HookQInput = Hook("hook_q_input"); HookKInput = Hook("hook_k_input"); HookVInput = Hook("hook_v_input");
        }
        else if (cfg.UseAttnIn) HookAttnIn = Hook("hook_attn_in");
        HookAttnOut = Hook("hook_attn_out");
        if (!cfg.ParallelAttnMlp && cfg.HasMlp) HookResidMid = Hook("hook_resid_mid");
        if (cfg.UseHookMlpIn && cfg.HasMlp) HookMlpIn = Hook("hook_mlp_in");
        if (cfg.HasMlp) HookMlpOut = Hook("hook_mlp_out");
        HookResidPost = Hook("hook_resid_post");
    }

    /// <summary>Layer index.</summary>
    public int Layer { get; }
    /// <summary>Norm before attention.</summary>
    public Normalization Ln1 { get; }
    /// <summary>Norm after attention (Gemma 2).</summary>
    public Normalization? Ln1Post { get; }
    /// <summary>Norm before the MLP.</summary>
    public Normalization? Ln2 { get; }
    /// <summary>Norm after the MLP (Gemma 2).</summary>
    public Normalization? Ln2Post { get; }
    /// <summary>Attention.</summary>
    public Attention Attn { get; }
    /// <summary>MLP (null for attention-only models).</summary>
    public Mlp? Mlp { get; }
    /// <summary>hook_resid_pre.</summary>
    public HookPoint HookResidPre { get; }
    /// <summary>hook_q_input (UseSplitQkvInput).</summary>
    public HookPoint? HookQInput { get; private set; }
    /// <summary>hook_k_input (UseSplitQkvInput).</summary>
    public HookPoint? HookKInput { get; private set; }
    /// <summary>hook_v_input (UseSplitQkvInput).</summary>
    public HookPoint? HookVInput { get; private set; }
    /// <summary>hook_attn_in (UseAttnIn).</summary>
    public HookPoint? HookAttnIn { get; private set; }
    /// <summary>hook_attn_out.</summary>
    public HookPoint HookAttnOut { get; }
    /// <summary>hook_resid_mid (sequential blocks with an MLP).</summary>
    public HookPoint? HookResidMid { get; }
    /// <summary>hook_mlp_in (UseHookMlpIn).</summary>
    public HookPoint? HookMlpIn { get; private set; }
    /// <summary>hook_mlp_out.</summary>
    public HookPoint? HookMlpOut { get; }
    /// <summary>hook_resid_post.</summary>
    public HookPoint HookResidPost { get; }

    /// <summary>Adds or removes hook_q_input/hook_k_input/hook_v_input (TransformerLens's set_use_split_qkv_input).</summary>
    internal void SetUseSplitQkvInput(bool on)
    {
        if (on == HookQInput is not null) return;
        if (on)
        {
            HookQInput = HookAfter("hook_q_input", HookResidPre);
            HookKInput = HookAfter("hook_k_input", HookQInput);
            HookVInput = HookAfter("hook_v_input", HookKInput);
            return;
        }
        RemoveHook(HookQInput); RemoveHook(HookKInput); RemoveHook(HookVInput);
        HookQInput = HookKInput = HookVInput = null;
    }

    /// <summary>Adds or removes hook_attn_in (TransformerLens's set_use_attn_in).</summary>
    internal void SetUseAttnIn(bool on)
    {
        if (on == HookAttnIn is not null) return;
        if (on) HookAttnIn = HookAfter("hook_attn_in", HookResidPre);
        else
        {
            RemoveHook(HookAttnIn);
            HookAttnIn = null;
        }
    }

    /// <summary>Adds or removes hook_mlp_in (TransformerLens's set_use_hook_mlp_in); nothing for a block without MLP.</summary>
    internal void SetUseHookMlpIn(bool on)
    {
        if (Mlp is null || on == HookMlpIn is not null) return;
        if (on) HookMlpIn = HookAfter("hook_mlp_in", HookResidMid ?? HookAttnOut);
        else
        {
            RemoveHook(HookMlpIn);
            HookMlpIn = null;
        }
    }

    /// <summary>Runs the block on the residual stream [batch, pos, d_model].</summary>
    public Tensor Forward(Tensor residPre, AttentionContext context)
    {
        residPre = HookResidPre.Invoke(residPre);
        Tensor attnOut;
        if (HookQInput is not null || HookAttnIn is not null)
        {
            Tensor PerHead(int heads) => residPre.Unsqueeze(2).Expand(residPre.Shape[0], residPre.Shape[1], heads, residPre.Shape[2]);
            Tensor qIn, kIn, vIn;
            if (HookQInput is not null)
            {
                qIn = HookQInput.Invoke(PerHead(_cfg.NHeads));
                kIn = HookKInput!.Invoke(PerHead(_cfg.KvHeads));
                vIn = HookVInput!.Invoke(PerHead(_cfg.KvHeads));
            }
            else
            {
                qIn = HookAttnIn!.Invoke(PerHead(_cfg.NHeads));
                // GQA: key/value head g reads the (hooked) input of the first query head of its group.
                int group = _cfg.NHeads / _cfg.KvHeads;
                kIn = vIn = group == 1 ? qIn : qIn.IndexSelect(2, Tensor.Arange(0, _cfg.NHeads, group, device: qIn.Device));
            }
            attnOut = Attn.Forward(Ln1.Forward(qIn, context.Plan), Ln1.Forward(kIn, context.Plan), Ln1.Forward(vIn, context.Plan), context);
        }
        else
        {
            var normalized = Ln1.Forward(residPre, context.Plan);
            attnOut = Attn.Forward(normalized, normalized, normalized, context);
        }
        if (Ln1Post is not null) attnOut = Ln1Post.Forward(attnOut, context.Plan);
        attnOut = HookAttnOut.Invoke(attnOut);
        if (Mlp is null) return HookResidPost.Invoke(residPre + attnOut);

        if (_cfg.ParallelAttnMlp)
        {
            var mlpIn = HookMlpIn?.Invoke(residPre) ?? residPre;
            var mlpOut = MlpOut(mlpIn, context.Plan);
            return HookResidPost.Invoke(residPre + attnOut + mlpOut);
        }
        var residMid = HookResidMid!.Invoke(residPre + attnOut);
        var input = HookMlpIn?.Invoke(residMid) ?? residMid;
        return HookResidPost.Invoke(residMid + MlpOut(input, context.Plan));
    }

    private Tensor MlpOut(Tensor input, ForwardPlan plan)
    {
        var output = Mlp!.Forward(Ln2!.Forward(input, plan));
        if (Ln2Post is not null) output = Ln2Post.Forward(output, plan);
        return HookMlpOut!.Invoke(output);
    }
}
