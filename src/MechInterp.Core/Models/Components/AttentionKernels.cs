namespace MechInterp.Models.Components;

/// <summary>
/// The three products of attention — scores, pattern, mixed values — each choosing its kernel from the pass's
/// <see cref="ForwardPlan"/>, so that <see cref="Attention.Forward"/> reads as the paper does. On plainly causal
/// attention in inference the hidden half of both products is skipped (the scores' hidden entries are masked or never
/// read; the pattern's are zero unless a hook edits scores or pattern), scaling, masking and softmax run in one pass,
/// and when the score hooks only observe, the pattern comes out of the same pass that masks them. Every other case
/// takes TransformerLens's plain ops.
/// </summary>
internal sealed class AttentionKernels(HookedTransformerConfig cfg, int layer, HookPoint hookScores, HookPoint hookPattern)
{
    private AttentionType Type => cfg.AttentionTypeOf(layer);

    /// <summary>True when the mask is exactly causal and scores are not soft-capped: the fused kernels apply.</summary>
    private bool Causal(AttentionContext context) => cfg.AttnScoresSoftCap <= 0 && context.IsPlainCausal(Type);

    /// <summary>q·kᵀ per head, [batch, head, query, key], unscaled; query heads grouped by their KV head so GQA needs no
    /// copy of K. Hidden entries may be left unspecified on the fused path (<see cref="Pattern"/> never reads them).</summary>
    public Tensor Scores(Tensor q, Tensor k, AttentionContext context)
    {
        long b = q.Shape[0], p = q.Shape[1], kvLen = k.Shape[1];
        int h = cfg.NHeads, kvh = cfg.KvHeads, dh = cfg.DHead, group = h / kvh;
        var qh = q.Permute(0, 2, 1, 3).Reshape(b, kvh, group * p, dh); // [b, kvh, group·q, dh]
        var kt = k.Permute(0, 2, 3, 1);                                 // [b, kvh, dh, key]
        bool skipHidden = Causal(context) && !ForwardPlan.Records(qh, kt);
        var scores = skipHidden ? qh.CausalMatMul(kt, p, kvLen - p, inputMasked: false) : qh.MatMul(kt);
        return scores.Reshape(b, h, p, kvLen);
    }

    /// <summary>The attention pattern of raw scores [batch, head, query, key]: scale, soft cap, mask (-inf),
    /// <c>hook_attn_scores</c>, softmax; rows of queries that see no key (padding) are 0.</summary>
    public Tensor Pattern(Tensor scores, AttentionContext context)
    {
        double scale = cfg.EffectiveAttnScale;
        var plan = context.Plan;
        if (!Causal(context))
            return MaskedSoftmax(scores, scale, context.Mask(Type, scores.Shape[2], scores.Shape[3]), context.HasPadding);
        if (!plan.IsHooked(hookScores)) return scores.CausalSoftmax(1.0 / scale);
        // The scores are this layer's fresh product: without a gradient to keep, mask them where they lie; when the score
        // hooks only observe (a cache), the pattern comes out of the same pass.
        bool inPlace = !ForwardPlan.Records(scores) && scores.IsContiguous;
        if (inPlace && plan.IsUnchanged(hookScores))
        {
            var fusedPattern = scores.CausalMaskSoftmaxInPlace(1.0 / scale);
            hookScores.Invoke(scores);
            return fusedPattern;
        }
        var masked = inPlace ? scores.CausalMaskInPlace(1.0 / scale) : scores.CausalMask(1.0 / scale);
        var hooked = hookScores.Invoke(masked);
        // A hook that returned new scores gets TransformerLens's full softmax; an unchanged one has -inf in every hidden
        // entry, which the causal softmax skips (edits made in place are seen in the visible part only).
        if (ReferenceEquals(hooked, masked)) return hooked.CausalSoftmax();
        return ZeroNaNRows(hooked.Softmax(-1));
    }

    /// <summary>z = pattern · v per head, [batch, pos, head, d_head]; on the fused path only visible keys are read.</summary>
    public Tensor Mix(Tensor pattern, Tensor v, AttentionContext context)
    {
        long b = pattern.Shape[0], p = pattern.Shape[2], kvLen = pattern.Shape[3];
        int h = cfg.NHeads, kvh = cfg.KvHeads, dh = cfg.DHead, group = h / kvh;
        var vh = v.Permute(0, 2, 1, 3);                          // [b, kvh, key, dh]
        var pg = pattern.Reshape(b, kvh, group * p, kvLen);      // [b, kvh, group·q, key]
        var plan = context.Plan;
        bool zeroHidden = Causal(context) && plan.IsUnchanged(hookScores) && plan.IsUnchanged(hookPattern) && !ForwardPlan.Records(pg, vh);
        var z = zeroHidden ? pg.CausalMatMul(vh, p, kvLen - p, inputMasked: true) : pg.MatMul(vh);
        return z.Reshape(b, h, p, dh).Permute(0, 2, 1, 3);
    }

    /// <summary>The general path: scale, soft-cap, mask with -inf, hook_attn_scores, softmax, and (with padding) zero the
    /// rows of queries that see no key.</summary>
    private Tensor MaskedSoftmax(Tensor scores, double scale, Tensor? mask, bool padded)
    {
        if (scale != 1.0) scores = scores / scale;
        if (cfg.AttnScoresSoftCap > 0) scores = (scores / cfg.AttnScoresSoftCap).Tanh() * cfg.AttnScoresSoftCap;
        if (mask is not null) scores = Tensor.Where(mask, scores, Tensor.Full([], double.NegativeInfinity, scores.DType, scores.Device));
        scores = hookScores.Invoke(scores);
        var pattern = scores.Softmax(-1);
        return mask is not null && padded ? ZeroNaNRows(pattern) : pattern;
    }

    /// <summary>Rows whose every key was masked come out of softmax as NaN; they attend to nothing (0).</summary>
    private static Tensor ZeroNaNRows(Tensor pattern) =>
        Tensor.Where(pattern.IsNan(), Tensor.Zeros([], pattern.DType, pattern.Device), pattern);
}
