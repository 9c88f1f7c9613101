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
    public HookPoint? HookResult { get; }

    /// <summary>Attention over normalised inputs. Inputs are [batch, pos, d_model], or [batch, pos, heads, d_model]
    /// when the config splits inputs per head. <paramref name="context"/> carries positions, masks and the cache.</summary>
    public Tensor Forward(Tensor queryInput, Tensor keyInput, Tensor valueInput, AttentionContext context)
    {
        int h = _cfg.NHeads, kvh = _cfg.KvHeads, dh = _cfg.DHead;
        long b = queryInput.Shape[0], p = queryInput.Shape[1];
        var q = HookQ.Invoke(Project(queryInput, Wq.Value, Bq.Value, h));
        var k = HookK.Invoke(Project(keyInput, Wk.Value, Bk.Value, kvh));
        var v = HookV.Invoke(Project(valueInput, Wv.Value, Bv.Value, kvh));
        if (context.Cache is { } cache) (k, v) = cache.Append(_layer, k, v);
        long kvLen = k.Shape[1];
        if (_rotary is not null)
        {
            q = HookRotQ!.Invoke(_rotary.Apply(q, context.QueryPositions));
            k = HookRotK!.Invoke(_rotary.Apply(k, context.KeyPositions(kvLen)));
        }
        // Scores [b, h, p, kv]: group query heads by their KV head so GQA needs no copy of K.
        int group = h / kvh;
        var qh = q.Permute(0, 2, 1, 3).Reshape(b, kvh, group * p, dh);
        var kt = k.Permute(0, 2, 3, 1); // [b, kvh, dh, kv]
        double scale = _cfg.EffectiveAttnScale;
        var type = _cfg.AttentionTypeOf(_layer);
        bool causal = _cfg.AttnScoresSoftCap <= 0 && context.IsPlainCausal(type);
        // Inference on plainly causal attention skips the hidden half of both products: the scores' hidden entries are
        // masked (or never read) before anyone sees them, and the pattern's are zero unless a hook edits scores or pattern.
        bool skipHidden = causal && !(GradMode.IsEnabled && (qh.RequiresGrad || kt.RequiresGrad));
        var scores = (skipHidden ? qh.CausalMatMul(kt, p, kvLen - p, inputMasked: false) : qh.MatMul(kt)).Reshape(b, h, p, kvLen);
        Tensor pattern;
        if (causal)
            pattern = HookPattern.Invoke(CausalPattern(scores, scale));
        else
            pattern = HookPattern.Invoke(MaskedSoftmax(scores, scale, context.Mask(type, p, kvLen), context.HasPadding));
        var vh = v.Permute(0, 2, 1, 3); // [b, kvh, kv, dh]
        var pg = pattern.Reshape(b, kvh, group * p, kvLen);
        bool zeroHidden = skipHidden && HookAttnScores.IsObservedOnly && HookPattern.IsObservedOnly
            && !(GradMode.IsEnabled && (pg.RequiresGrad || vh.RequiresGrad));
        var z = (zeroHidden ? pg.CausalMatMul(vh, p, kvLen - p, inputMasked: true) : pg.MatMul(vh)).Reshape(b, h, p, dh).Permute(0, 2, 1, 3);
        z = HookZ.Invoke(z);
        if (HookResult is null)
            return Linear.Apply(z.Reshape(b, p, h * dh), Wo.Value, Bo.Value);
        var result = HookResult.Invoke(Tensor.Einsum("bphe,hed->bphd", z, W_O));
        return result.Sum(2) + Bo.Value;
    }

    /// <summary>Plainly causal attention in fused passes: scale + causal softmax when nobody looks at the scores; otherwise
    /// one pass for the scaled, -inf-masked scores (hook_attn_scores) and one causal softmax over their visible part.</summary>
    private Tensor CausalPattern(Tensor scores, double scale)
    {
        if (!HookAttnScores.IsActive) return scores.CausalSoftmax(1.0 / scale);
        // The scores are this layer's fresh product: without a gradient to keep, mask them where they lie; when the score
        // hooks only observe (a cache), the pattern comes out of the same pass.
        bool inPlace = !(GradMode.IsEnabled && scores.RequiresGrad) && scores.IsContiguous;
        if (inPlace && HookAttnScores.IsObservedOnly)
        {
            var fusedPattern = scores.CausalMaskSoftmaxInPlace(1.0 / scale);
            HookAttnScores.Invoke(scores);
            return fusedPattern;
        }
        var masked = inPlace ? scores.CausalMaskInPlace(1.0 / scale) : scores.CausalMask(1.0 / scale);
        var hooked = HookAttnScores.Invoke(masked);
        // A hook that returned new scores gets TransformerLens's full softmax; an unchanged one has -inf in every hidden
        // entry, which the causal softmax skips (edits made in place are seen in the visible part only).
        if (ReferenceEquals(hooked, masked)) return hooked.CausalSoftmax();
        return ZeroNaNRows(hooked.Softmax(-1));
    }

    /// <summary>The general path: scale, soft-cap, mask with -inf, hook_attn_scores, softmax, and (with padding) zero the
    /// rows of queries that see no key.</summary>
    private Tensor MaskedSoftmax(Tensor scores, double scale, Tensor? mask, bool padded)
    {
        if (scale != 1.0) scores = scores / scale;
        if (_cfg.AttnScoresSoftCap > 0) scores = (scores / _cfg.AttnScoresSoftCap).Tanh() * _cfg.AttnScoresSoftCap;
        if (mask is not null) scores = Tensor.Where(mask, scores, Tensor.Full([], double.NegativeInfinity, scores.DType, scores.Device));
        scores = HookAttnScores.Invoke(scores);
        var pattern = scores.Softmax(-1);
        return mask is not null && padded ? ZeroNaNRows(pattern) : pattern;
    }

    /// <summary>Rows whose every key was masked come out of softmax as NaN; they attend to nothing (0).</summary>
    private static Tensor ZeroNaNRows(Tensor pattern) =>
        Tensor.Where(pattern.IsNan(), Tensor.Zeros([], pattern.DType, pattern.Device), pattern);

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
