namespace MechInterp.Analysis;

/// <summary>The logit lens's reading of the residual stream after each layer.</summary>
/// <param name="Labels">The residual read ("0_pre", "1_pre", ..., "final_post").</param>
/// <param name="Logits">[layers, batch, pos, vocab]: each residual through the final norm and the unembedding.</param>
public sealed record LogitLensResult(string[] Labels, Tensor Logits)
{
    /// <summary>Softmax of <see cref="Logits"/> [layers, batch, pos, vocab].</summary>
    public Tensor Probabilities => Logits.Softmax(-1);

    /// <summary>The <paramref name="k"/> most likely tokens and their probabilities at one layer, batch element and position.</summary>
    public (long Token, double Probability)[] TopTokens(int layer, int batch, int position, int k = 5)
    {
        var p = Logits.Select(0, layer).Select(0, batch).Select(0, position).Softmax(-1).To(Device.Cpu).To(DType.Float64).ToArray<double>();
        return [.. p.Select((v, i) => ((long)i, v)).OrderByDescending(x => x.v).Take(k)];
    }

    /// <summary>The rank of <paramref name="tokens"/> (0 = the most likely) at every layer [layers, batch, pos]:
    /// <paramref name="tokens"/> is [batch] (one token for every position) or [batch, pos] (e.g. the next tokens).</summary>
    public Tensor Rank(Tensor tokens)
    {
        var target = Targets(tokens);                                    // [1, batch, pos, 1]
        var chosen = Logits.Gather(3, target.Expand(Logits.Shape[0], Logits.Shape[1], Logits.Shape[2], 1)); // [L, b, p, 1]
        return (Logits > chosen).To(DType.Int64).Sum(-1);
    }

    /// <summary>The probability of <paramref name="tokens"/> ([batch] or [batch, pos]) at every layer [layers, batch, pos].</summary>
    public Tensor Probability(Tensor tokens)
    {
        var target = Targets(tokens);
        return Probabilities.Gather(3, target.Expand(Logits.Shape[0], Logits.Shape[1], Logits.Shape[2], 1)).Squeeze(-1);
    }

    private Tensor Targets(Tensor tokens)
    {
        long b = Logits.Shape[1], p = Logits.Shape[2];
        var t = tokens.To(DType.Int64).To(Logits.Device);
        if (t.Rank == 1 && t.Shape[0] == b) t = t.Unsqueeze(1).Expand(b, p);
        if (t.Rank != 2 || t.Shape[0] != b || t.Shape[1] != p)
            throw new ArgumentException($"tokens must be [batch] = [{b}] or [batch, pos] = [{b}, {p}], got {Tensor.ShapeString(tokens.Shape)}", nameof(tokens));
        return t.Unsqueeze(0).Unsqueeze(-1); // [1, b, p, 1]
    }
}

/// <summary>How the logit lens normalises an intermediate residual before unembedding it.</summary>
public enum LensNormalization
{
    /// <summary>As TransformerLens's accumulated_resid(apply_ln=True): centre each residual and divide it by the cached
    /// scale of the final residual (the same scale for every layer, so the lens stays linear in the residual).</summary>
    CachedFinalScale,
    /// <summary>Each residual through the final norm with its own statistics (nostalgebraist's original lens).</summary>
    Recomputed,
}

/// <summary>
/// The logit lens (nostalgebraist 2020): read the residual stream entering each layer, and the final one, as if it
/// were the last, through the final norm and the unembedding. Both normalisations (<see cref="LensNormalization"/>)
/// then apply the final norm's weight and bias and W_U, b_U, so the last entry ("final_post") is the model's own logits.
/// </summary>
public static class LogitLens
{
    /// <summary>Applies the lens to every accumulated residual of <paramref name="cache"/> (a decoder's cache with the
    /// resid_pre/resid_post hooks and ln_final.hook_scale). <paramref name="posSlice"/> keeps some positions.</summary>
    public static LogitLensResult Run(ActivationCache cache, Range? posSlice = null, bool inclMid = false,
        LensNormalization normalization = LensNormalization.CachedFinalScale)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var model = cache.Model as HookedTransformer ?? throw new NotSupportedException("the logit lens reads ln_final and W_U: it needs a cache from a HookedTransformer");
        if (!cache.HasBatchDim) throw new ArgumentException("the logit lens needs a cache with its batch dim", nameof(cache));
        var (stack, labels) = cache.AccumulatedResid(inclMid: inclMid, posSlice: posSlice); // [L+1, b, p, d]
        if (normalization == LensNormalization.Recomputed || model.Config.NormalizationType == NormalizationType.None)
            return new LogitLensResult(labels, Unembed(model, stack));
        var scaled = cache.ApplyLnToStack(stack, posSlice: posSlice); // centred / final scale, [L+1, b, p, d]
        var normed = model.LnFinal.W?.Value is { } w ? scaled * w : scaled;
        if (model.LnFinal.B?.Value is { } b) normed = normed + b;
        return new LogitLensResult(labels, UnembedNormalized(model, normed));
    }

    /// <summary>Residuals [..., d_model] through the model's own final norm (each with its own statistics) and its
    /// unembedding (<see cref="IHookedModel.ApplyFinalNorm"/>, <see cref="IHookedModel.ToLogits"/>).</summary>
    public static Tensor Unembed(IHookedModel model, Tensor residual)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(residual);
        return model.ToLogits(model.ApplyFinalNorm(residual));
    }

    private static Tensor UnembedNormalized(HookedTransformer model, Tensor normalized)
    {
        var logits = normalized.MatMul(model.W_U) + model.Unembed.b_U.Value; // [..., vocab]
        double cap = model.Config.OutputLogitsSoftCap;
        return cap > 0 ? (logits / cap).Tanh() * cap : logits;
    }
}
