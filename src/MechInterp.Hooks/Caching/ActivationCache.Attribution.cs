namespace MechInterp;

public sealed partial class ActivationCache
{
    /// <summary>
    /// Applies the normalisation that reads the residual at <paramref name="layer"/> (ln_final when null, -1 or n_layers;
    /// ln2 when <paramref name="mlpInput"/>) to every component of a stack [components, batch, pos, d_model], using the
    /// cached scale of the full residual: centring (LayerNorm) and division by hook_scale, without the norm's weights — as
    /// TransformerLens does (fold the norm weights into the next layer first for exact attributions). A model without
    /// normalisation gets the stack back. <paramref name="posSlice"/> and <paramref name="batchSlice"/> say which
    /// positions and batch elements the stack holds (the batch slice is applied to the stack too, when
    /// <paramref name="hasBatchDim"/>). With <paramref name="recomputeLn"/> at the final layer, ln_final itself (weights
    /// included) runs on each component with the component's own statistics instead (TransformerLens's logit-lens
    /// option); nothing is read from the cache then.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The scale hook was not cached.</exception>
    public Tensor ApplyLnToStack(Tensor residualStack, int? layer = null, bool mlpInput = false, Slice? posSlice = null,
        Slice? batchSlice = null, bool hasBatchDim = true, bool recomputeLn = false)
    {
        ArgumentNullException.ThrowIfNull(residualStack);
        int at = LayerBound(layer);
        if (hasBatchDim && batchSlice is { } stackBatch) residualStack = stackBatch.Apply(residualStack, 1);
        var norm = Model.Config.NormalizationType;
        if (norm == NormalizationType.None) return residualStack;
        if (recomputeLn && at == NLayers)
        {
            bool posless = residualStack.Rank == 3; // [components, batch, d_model]: ln_final takes [batch, pos, d_model]
            var normalized = Model.ApplyFinalNorm(posless ? residualStack.Unsqueeze(2) : residualStack);
            return posless ? normalized.Squeeze(2) : normalized;
        }
        string scaleName = at == NLayers ? "ln_final.hook_scale" : ActName.Get("scale", at, mlpInput ? "ln2" : "ln1");
        if (!ContainsKey(scaleName))
            throw new KeyNotFoundException($"ApplyLnToStack needs '{scaleName}' in the cache: run RunWithCache without a filter that excludes it");
        var scale = SlicePos(_store[scaleName], posSlice, PosDim); // [batch, pos, 1]
        if (HasBatchDim && batchSlice is { } scaleBatch) scale = scaleBatch.Apply(scale, 0);
        var stack = norm is NormalizationType.LN or NormalizationType.LNPre ? residualStack - residualStack.Mean(-1, keepDim: true) : residualStack;
        return stack / scale;
    }

    /// <summary>Direct logit attribution (TransformerLens's logit_attrs): scales <paramref name="residualStack"/>
    /// [components, batch, pos, d_model] (e.g. from <see cref="DecomposeResid"/>) by the cached final norm, as
    /// <see cref="ApplyLnToStack"/> does, and takes each component's dot product with the unembedding direction of
    /// <paramref name="tokens"/> (minus that of <paramref name="incorrectTokens"/>). Tokens are a scalar id (one answer
    /// for every row), [batch] ids (one answer per row, at every position of the stack) or [batch, pos] ids (one answer
    /// per position). Pass the stack's <paramref name="posSlice"/> and <paramref name="batchSlice"/> so the right scales
    /// are used. Returns [components, batch, pos] (the stack's shape without d_model).</summary>
    /// <exception cref="ArgumentException">The two token tensors differ in shape, or [batch, pos] tokens do not match the stack.</exception>
    public Tensor LogitAttrs(Tensor residualStack, Tensor tokens, Tensor? incorrectTokens = null, Slice? posSlice = null,
        Slice? batchSlice = null, bool hasBatchDim = true)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (incorrectTokens is not null && !incorrectTokens.Shape.AsSpan().SequenceEqual(tokens.Shape))
            throw new ArgumentException($"tokens {Tensor.ShapeString(tokens.Shape)} and incorrectTokens {Tensor.ShapeString(incorrectTokens.Shape)} must have the same shape", nameof(incorrectTokens));
        var direction = Decoder.TokensToResidualDirections(tokens); // [*tokens, d_model]
        if (incorrectTokens is not null) direction = direction - Decoder.TokensToResidualDirections(incorrectTokens);
        return Attribute(residualStack, direction, tokens.Rank, posSlice, batchSlice, hasBatchDim);
    }

    /// <summary><see cref="LogitAttrs(Tensor, Tensor, Tensor?, Slice?, Slice?, bool)"/> for answers given as text, each
    /// exactly one token (e.g. " Paris" against " Rome").</summary>
    public Tensor LogitAttrs(Tensor residualStack, string token, string? incorrectToken = null, Slice? posSlice = null,
        Slice? batchSlice = null, bool hasBatchDim = true)
    {
        var direction = Decoder.TokensToResidualDirections(token); // [d_model]
        if (incorrectToken is not null) direction = direction - Decoder.TokensToResidualDirections(incorrectToken);
        return Attribute(residualStack, direction, 0, posSlice, batchSlice, hasBatchDim);
    }

    /// <summary><see cref="LogitAttrs(Tensor, Tensor, Tensor?, Slice?, Slice?, bool)"/> for one answer id (and one wrong id).</summary>
    public Tensor LogitAttrs(Tensor residualStack, int token, int? incorrectToken = null, Slice? posSlice = null,
        Slice? batchSlice = null, bool hasBatchDim = true)
    {
        var direction = Decoder.TokensToResidualDirections(token); // [d_model]
        if (incorrectToken is { } wrong) direction = direction - Decoder.TokensToResidualDirections(wrong);
        return Attribute(residualStack, direction, 0, posSlice, batchSlice, hasBatchDim);
    }

    private Tensor Attribute(Tensor residualStack, Tensor direction, int tokenRank, Slice? posSlice, Slice? batchSlice, bool hasBatchDim)
    {
        var scaled = ApplyLnToStack(residualStack, null, false, posSlice, batchSlice, hasBatchDim); // [components, ..., d_model]
        long d = direction.Shape[^1];
        Tensor aligned;
        switch (tokenRank)
        {
            case 0:
                aligned = direction; // [d_model] broadcasts over everything
                break;
            case 1 when !(HasBatchDim && hasBatchDim):
                if (direction.Shape[0] != 1)
                    throw new ArgumentException($"the stack has no batch dim, so give one answer (a scalar id), not {direction.Shape[0]}", "tokens");
                aligned = direction.Reshape(d);
                break;
            case 1:
            {
                // [batch] answers: one per row, at every position the stack keeps.
                var shape = Enumerable.Repeat(1L, scaled.Rank).ToArray();
                shape[1] = direction.Shape[0];
                shape[^1] = d;
                aligned = direction.Reshape(shape);
                break;
            }
            default:
                var expected = scaled.Shape[1..^1];
                if (!direction.Shape[..^1].AsSpan().SequenceEqual(expected))
                    throw new ArgumentException($"[batch, pos] tokens of shape {Tensor.ShapeString(direction.Shape[..^1])} must match the stack's batch and pos dims {Tensor.ShapeString(expected)}", "tokens");
                aligned = direction;
                break;
        }
        return (scaled * aligned).Sum(-1);
    }
}
