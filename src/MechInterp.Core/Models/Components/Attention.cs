namespace MechInterp.Models.Components;

/// <summary>
/// Multi-head attention with TransformerLens's hooks and weight layout (W_Q [n_heads, d_model, d_head],
/// W_K/W_V [n_kv_heads, d_model, d_head], W_O [n_heads, d_head, d_model]). Weights are stored internally as
/// GEMM-ready 2-D matrices; the TransformerLens-shaped properties are views of them. Supports GQA/MQA, rotary
/// (rotate-half or adjacent pairs, partial), local windows, score soft-capping and a key/value cache.
/// </summary>
public sealed class Attention : Module
{
    private readonly HookedTransformerConfig _cfg;
    private readonly int _layer;
    private readonly Rotary? _rotary;
    private readonly AttentionKernels _kernels;

    /// <summary>Creates zero-initialised attention for layer <paramref name="layer"/>.</summary>
    public Attention(string prefix, HookedTransformerConfig cfg, int layer, Device device) : base(prefix)
    {
        _cfg = cfg;
        _layer = layer;
        int h = cfg.NHeads, kv = cfg.KvHeads, d = cfg.DModel, dh = cfg.DHead;
        Wq = Param("W_Q", Tensor.Zeros([d, h * dh], device: device));
        Wk = Param("W_K", Tensor.Zeros([d, kv * dh], device: device));
        Wv = Param("W_V", Tensor.Zeros([d, kv * dh], device: device));
        Wo = Param("W_O", Tensor.Zeros([h * dh, d], device: device));
        Bq = Param("b_Q", Tensor.Zeros([h * dh], device: device));
        Bk = Param("b_K", Tensor.Zeros([kv * dh], device: device));
        Bv = Param("b_V", Tensor.Zeros([kv * dh], device: device));
        Bo = Param("b_O", Tensor.Zeros([d], device: device));
        HookK = Hook("hook_k"); HookQ = Hook("hook_q"); HookV = Hook("hook_v");
        HookZ = Hook("hook_z");
        HookAttnScores = Hook("hook_attn_scores");
        HookPattern = Hook("hook_pattern");
        if (cfg.UseAttnResult) HookResult = Hook("hook_result");
        if (cfg.PositionalEmbeddingType == PositionalEmbeddingType.Rotary)
        {
            HookRotK = Hook("hook_rot_k"); HookRotQ = Hook("hook_rot_q");
            _rotary = new Rotary(cfg.RotaryDims, cfg.NCtx, cfg.RotaryBase, cfg.RotaryAdjacentPairs, device);
        }
        _kernels = new AttentionKernels(cfg, layer, HookAttnScores, HookPattern);
    }

    internal Parameter Wq { get; }
    internal Parameter Wk { get; }
    internal Parameter Wv { get; }
    internal Parameter Wo { get; }
    internal Parameter Bq { get; }
    internal Parameter Bk { get; }
    internal Parameter Bv { get; }
    internal Parameter Bo { get; }

    /// <summary>W_Q [n_heads, d_model, d_head] (a view of the stored matrix).</summary>
    public Tensor W_Q => Wq.Value.Reshape(_cfg.DModel, _cfg.NHeads, _cfg.DHead).Permute(1, 0, 2);
    /// <summary>W_K [n_kv_heads, d_model, d_head].</summary>
    public Tensor W_K => Wk.Value.Reshape(_cfg.DModel, _cfg.KvHeads, _cfg.DHead).Permute(1, 0, 2);
    /// <summary>W_V [n_kv_heads, d_model, d_head].</summary>
    public Tensor W_V => Wv.Value.Reshape(_cfg.DModel, _cfg.KvHeads, _cfg.DHead).Permute(1, 0, 2);
    /// <summary>W_O [n_heads, d_head, d_model].</summary>
    public Tensor W_O => Wo.Value.Reshape(_cfg.NHeads, _cfg.DHead, _cfg.DModel);
    /// <summary>b_Q [n_heads, d_head].</summary>
    public Tensor b_Q => Bq.Value.Reshape(_cfg.NHeads, _cfg.DHead);
    /// <summary>b_K [n_kv_heads, d_head].</summary>
    public Tensor b_K => Bk.Value.Reshape(_cfg.KvHeads, _cfg.DHead);
    /// <summary>b_V [n_kv_heads, d_head].</summary>
    public Tensor b_V => Bv.Value.Reshape(_cfg.KvHeads, _cfg.DHead);
    /// <summary>b_O [d_model].</summary>
    public Tensor b_O => Bo.Value;

    /// <summary>attn.hook_q [batch, pos, n_heads, d_head].</summary>
    public HookPoint HookQ { get; }
    /// <summary>attn.hook_k [batch, pos, n_kv_heads, d_head].</summary>
    public HookPoint HookK { get; }
    /// <summary>attn.hook_v [batch, pos, n_kv_heads, d_head].</summary>
    public HookPoint HookV { get; }
    /// <summary>attn.hook_rot_q (rotary models).</summary>
    public HookPoint? HookRotQ { get; }
    /// <summary>attn.hook_rot_k (rotary models).</summary>
    public HookPoint? HookRotK { get; }
    /// <summary>attn.hook_attn_scores [batch, head, query, key], masked entries -inf.</summary>
    public HookPoint HookAttnScores { get; }
    /// <summary>attn.hook_pattern [batch, head, query, key].</summary>
    public HookPoint HookPattern { get; }
    /// <summary>attn.hook_z [batch, pos, n_heads, d_head].</summary>
    public HookPoint HookZ { get; }
    /// <summary>attn.hook_result [batch, pos, n_heads, d_model] (UseAttnResult).</summary>
    public HookPoint? HookResult { get; private set; }

    /// <summary>Adds or removes attn.hook_result (TransformerLens's set_use_attn_result); the output is the same either way.</summary>
    internal void SetUseAttnResult(bool on)
    {
        if (on == HookResult is not null) return;
        if (on) HookResult = HookAfter("hook_result", HookPattern);
        else
        {
            RemoveHook(HookResult);
            HookResult = null;
        }
    }

    /// <summary>Attention over normalised inputs. Inputs are [batch, pos, d_model], or [batch, pos, heads, d_model]
    /// when the config splits inputs per head. <paramref name="context"/> carries positions, masks, the cache and the
    /// pass's plan (which kernels may run).</summary>
    public Tensor Forward(Tensor queryInput, Tensor keyInput, Tensor valueInput, AttentionContext context)
    {
        var q = HookQ.Invoke(Project(queryInput, Wq.Value, Bq.Value, _cfg.NHeads));  // [batch, pos, head, d_head]
        var k = HookK.Invoke(Project(keyInput, Wk.Value, Bk.Value, _cfg.KvHeads));   // [batch, pos, kv_head, d_head]
        var v = HookV.Invoke(Project(valueInput, Wv.Value, Bv.Value, _cfg.KvHeads)); // [batch, pos, kv_head, d_head]
        if (context.Cache is { } cache) (k, v) = cache.Append(_layer, k, v);      // keys and values so far
        if (_rotary is not null)
        {
            q = HookRotQ!.Invoke(_rotary.Apply(q, context.QueryPositions));
            k = HookRotK!.Invoke(_rotary.Apply(k, context.KeyPositions(k.Shape[1])));
        }
        var scores = _kernels.Scores(q, k, context);                                // [batch, head, query, key]
        var pattern = HookPattern.Invoke(_kernels.Pattern(scores, context));        // [batch, head, query, key]
        var z = HookZ.Invoke(_kernels.Mix(pattern, v, context));                    // [batch, pos, head, d_head]
        return Output(z);
    }

    /// <summary>z · W_O + b_O [batch, pos, d_model], through hook_result [batch, pos, head, d_model] when enabled.</summary>
    private Tensor Output(Tensor z)
    {
        long b = z.Shape[0], p = z.Shape[1];
        if (HookResult is null) return Linear.Apply(z.Reshape(b, p, _cfg.NHeads * _cfg.DHead), Wo.Value, Bo.Value);
        var result = HookResult.Invoke(Tensor.Einsum("bphe,hed->bphd", z, W_O));
        return result.Sum(2) + Bo.Value;
    }

    private Tensor Project(Tensor input, Tensor w, Tensor bias, int heads)
    {
        int dh = _cfg.DHead;
        if (input.Rank == 3)
            return Linear.Apply(input, w, bias).Reshape(input.Shape[0], input.Shape[1], heads, dh);
        // Per-head inputs [b, p, heads, d_model] (UseSplitQkvInput / UseAttnIn).
        var w3 = w.Reshape(_cfg.DModel, heads, dh).Permute(1, 0, 2);
        return Tensor.Einsum("bphd,hde->bphe", input, w3) + bias.Reshape(heads, dh);
    }
}
