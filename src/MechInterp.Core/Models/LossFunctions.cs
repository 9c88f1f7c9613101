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
}
