namespace MechInterp.Patching;

/// <summary>
/// Ready-made metrics (logits [batch, pos, d_vocab] → one number, differentiable, so they serve attribution too) and
/// the normalisation of sweep results. A metric is called on the logits of one copy of the base batch, so its per-prompt
/// tensors (answers) have the base batch's size.
/// </summary>
public static class PatchingMetrics
{
    /// <summary>Mean over prompts of logit[answer] − logit[wrong] at <paramref name="position"/> (the last by default):
    /// the usual patching metric.</summary>
    /// <param name="answerTokens">The right answer per prompt, [batch] token ids.</param>
    /// <param name="wrongTokens">The wrong answer per prompt, [batch] token ids.</param>
    /// <param name="position">Position read (an Index: ^1 = last).</param>
    public static Func<Tensor, Tensor> LogitDifference(long[] answerTokens, long[] wrongTokens, Index? position = null)
    {
        ArgumentNullException.ThrowIfNull(answerTokens);
        ArgumentNullException.ThrowIfNull(wrongTokens);
        if (answerTokens.Length != wrongTokens.Length || answerTokens.Length == 0)
            throw new ArgumentException($"one right and one wrong answer per prompt: got {answerTokens.Length} and {wrongTokens.Length}");
        var at = position ?? ^1;
        return logits =>
        {
            var last = AtPosition(logits, at, answerTokens.Length); // [batch, d_vocab]
            var sign = new float[answerTokens.Length * last.Shape[1]];
            for (int b = 0; b < answerTokens.Length; b++)
            {
                sign[b * last.Shape[1] + CheckToken(answerTokens[b], last.Shape[1])] += 1f / answerTokens.Length;
                sign[b * last.Shape[1] + CheckToken(wrongTokens[b], last.Shape[1])] -= 1f / answerTokens.Length;
            }
            var signs = Tensor.FromArray(sign, [answerTokens.Length, last.Shape[1]], DType.Float32, logits.Device).To(logits.DType);
            return (last * signs).Sum();
        };
    }

    /// <summary>Mean over prompts of the probability of <paramref name="tokens"/>[b] at <paramref name="position"/>.</summary>
    /// <param name="tokens">One token id per prompt.</param>
    /// <param name="position">Position read (^1 = last).</param>
    public static Func<Tensor, Tensor> TokenProbability(long[] tokens, Index? position = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var at = position ?? ^1;
        return logits =>
        {
            var probs = AtPosition(logits, at, tokens.Length).Softmax(-1); // [batch, d_vocab]
            var pick = new float[tokens.Length * probs.Shape[1]];
            for (int b = 0; b < tokens.Length; b++) pick[b * probs.Shape[1] + CheckToken(tokens[b], probs.Shape[1])] = 1f / tokens.Length;
            return (probs * Tensor.FromArray(pick, [tokens.Length, probs.Shape[1]], DType.Float32, logits.Device).To(logits.DType)).Sum();
        };
    }

    /// <summary>Mean next-token cross-entropy loss of the base run's own tokens (lower = the model predicts them better).</summary>
    /// <param name="tokens">The base run's token ids [batch, pos].</param>
    public static Func<Tensor, Tensor> Loss(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return logits => LossFunctions.NextTokenLoss(logits, tokens.To(logits.Device));
    }

    /// <summary>
    /// (x − baseValue) / (sourceValue − baseValue) applied to a metric: 0 = the base run, 1 = the source run (TransformerLens
    /// tutorials' "normalised logit difference"). Differentiable like the metric it wraps.
    /// </summary>
    /// <param name="metric">The raw metric.</param>
    /// <param name="baseValue">The metric of the unpatched base run.</param>
    /// <param name="sourceValue">The metric of the unpatched source run.</param>
    public static Func<Tensor, Tensor> Normalized(Func<Tensor, Tensor> metric, double baseValue, double sourceValue)
    {
        ArgumentNullException.ThrowIfNull(metric);
        double span = CheckSpan(baseValue, sourceValue);
        return logits => (metric(logits) - baseValue) / span;
    }

    /// <summary>Normalises raw sweep results: (x − baseValue) / (sourceValue − baseValue).</summary>
    /// <param name="results">Raw metric values of a sweep.</param>
    /// <param name="baseValue">The metric of the unpatched base run.</param>
    /// <param name="sourceValue">The metric of the unpatched source run.</param>
    public static Tensor Normalize(Tensor results, double baseValue, double sourceValue)
    {
        ArgumentNullException.ThrowIfNull(results);
        return (results - baseValue) / CheckSpan(baseValue, sourceValue);
    }

    private static double CheckSpan(double baseValue, double sourceValue)
    {
        double span = sourceValue - baseValue;
        if (span == 0 || !double.IsFinite(span))
            throw new ArgumentException($"cannot normalise: the source and base metrics are {sourceValue} and {baseValue}; pick prompts (or a metric) that tell the two runs apart");
        return span;
    }

    private static Tensor AtPosition(Tensor logits, Index position, int batch)
    {
        if (logits.Rank != 3)
            throw new ArgumentException($"a metric reads logits [batch, pos, d_vocab], got {Tensor.ShapeString(logits.Shape)}");
        if (logits.Shape[0] != batch)
            throw new ArgumentException($"the metric has answers for {batch} prompts but the logits are for {logits.Shape[0]}: give one answer per prompt of the base batch");
        return logits[.., position, ..];
    }

    private static long CheckToken(long token, long vocab) =>
        token >= 0 && token < vocab ? token : throw new ArgumentOutOfRangeException(nameof(token), $"token id {token} is outside the vocabulary (0..{vocab - 1})");
}
