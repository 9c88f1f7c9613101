namespace MechInterp;

/// <summary>Language-model losses.</summary>
public static class LossFunctions
{
    /// <summary>Next-token cross-entropy: entry [b, t] = -log softmax(logits[b, t])[tokens[b, t+1]]. Mean over
    /// entries (over real tokens only when <paramref name="attentionMask"/> is given), or [batch, pos-1] per token.</summary>
    public static Tensor NextTokenLoss(Tensor logits, Tensor tokens, Tensor? attentionMask = null, bool perToken = false)
    {
        if (logits.Rank != 3 || tokens.Rank != 2 || logits.Shape[0] != tokens.Shape[0] || logits.Shape[1] != tokens.Shape[1])
            throw new ArgumentException($"logits {Tensor.ShapeString(logits.Shape)} and tokens {Tensor.ShapeString(tokens.Shape)} must be [batch, pos, vocab] and [batch, pos]");
        long p = tokens.Shape[1];
        if (p < 2) throw new ArgumentException("a next-token loss needs at least 2 positions");
        var logp = logits.Narrow(1, 0, p - 1).LogSoftmax(-1);
        var targets = tokens.Narrow(1, 1, p - 1).To(DType.Int64).To(logits.Device);
        var nll = -logp.Gather(2, targets.Unsqueeze(-1)).Squeeze(-1);
        if (attentionMask is null) return perToken ? nll : nll.Mean();
        var mask = attentionMask.To(logits.Device).To(logits.DType);
        var both = mask.Narrow(1, 1, p - 1) * mask.Narrow(1, 0, p - 1);
        if (perToken) return nll * both;
        return (nll * both).Sum() / both.Sum();
    }

    /// <summary>Masked-LM cross-entropy as Hugging Face computes it from <c>labels</c> (not shifted): entry [b, t] =
    /// -log softmax(logits[b, t])[labels[b, t]]; labels equal to <paramref name="ignoreIndex"/> (-100) and positions
    /// where <paramref name="attentionMask"/> is 0 count as zero and are left out of the mean. Returns the mean over
    /// counted entries, or [batch, pos] per token.</summary>
    public static Tensor MaskedTokenLoss(Tensor logits, Tensor labels, Tensor? attentionMask = null, bool perToken = false, long ignoreIndex = -100)
    {
        if (logits.Rank != 3 || labels.Rank != 2 || logits.Shape[0] != labels.Shape[0] || logits.Shape[1] != labels.Shape[1])
            throw new ArgumentException($"logits {Tensor.ShapeString(logits.Shape)} and labels {Tensor.ShapeString(labels.Shape)} must be [batch, pos, vocab] and [batch, pos]");
        var targets = labels.To(DType.Int64).To(logits.Device);
        var valid = targets != ignoreIndex;
        if (attentionMask is not null) valid = valid & attentionMask.To(logits.Device).To(DType.Bool);
        var safeTargets = Tensor.Where(valid, targets, Tensor.Zeros([], DType.Int64, logits.Device));
        var nll = -logits.LogSoftmax(-1).Gather(2, safeTargets.Unsqueeze(-1)).Squeeze(-1);
        var weights = valid.To(logits.DType);
        if (perToken) return nll * weights;
        return (nll * weights).Sum() / weights.Sum();
    }
}
