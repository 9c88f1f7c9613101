namespace MechInterp.Analysis;

/// <summary>Direct logit attributions at one position: each component's share of a logit (or logit difference).</summary>
/// <param name="Labels">The components ("embed", "0_attn_out", "L1H3", "L0N17", "remainder", ...).</param>
/// <param name="Values">[components, batch]: each component's direct contribution.</param>
/// <param name="Bias">[batch]: what no component carries, the final norm's bias and the unembedding bias read along the
/// same direction. Values summed over components plus Bias is the logit (difference) exactly.</param>
public sealed record LogitAttribution(string[] Labels, Tensor Values, Tensor Bias)
{
    /// <summary>The attributions summed over components plus the bias [batch]: the model's logit (difference).</summary>
    public Tensor Total => Values.Sum(0) + Bias;

    /// <summary>The <paramref name="k"/> components with the largest attribution for batch element <paramref name="batch"/>.</summary>
    public (string Label, double Value)[] Top(int k = 10, int batch = 0)
    {
        var v = Values.Select(1, batch).To(Device.Cpu).To(DType.Float64).ToArray<double>();
        return [.. Labels.Zip(v).OrderByDescending(x => x.Second).Take(k)];
    }
}

/// <summary>
/// Direct logit attribution (Elhage et al. 2021; TransformerLens's logit_attrs over decompose_resid,
/// stack_head_results and stack_neuron_results): the final residual at a position is a sum of component outputs, and
/// the final norm is linear once its scale is fixed at the cached value, so each component contributes
/// (component − mean) / scale · (w ⊙ W_U[:, token]) to the token's logit. The norm weight w is applied here (TransformerLens
/// assumes it was folded into W_U), so the identity Σ components + bias = logit holds on any model, processed or not.
/// The cache must hold the residual components and ln_final.hook_scale (RunWithCache without a names filter).
/// </summary>
public static class DirectLogitAttribution
{
    /// <summary>Per layer: embed, pos_embed, then each layer's attn_out and mlp_out.</summary>
    public static LogitAttribution PerLayer(ActivationCache cache, Tensor tokens, Tensor? incorrectTokens = null, int position = -1)
    {
        var (stack, labels) = Checked(cache).DecomposeResid(posSlice: PositionRange(cache, position));
        return Attribute(cache, stack, labels, tokens, incorrectTokens, position);
    }

    /// <summary>Per attention head ("L{l}H{h}"), plus the "remainder" (embeddings, biases, MLPs).</summary>
    public static LogitAttribution PerHead(ActivationCache cache, Tensor tokens, Tensor? incorrectTokens = null, int position = -1)
    {
        var (stack, labels) = Checked(cache).StackHeadResults(inclRemainder: true, posSlice: PositionRange(cache, position));
        return Attribute(cache, stack, labels, tokens, incorrectTokens, position);
    }

    /// <summary>Per MLP neuron ("L{l}N{n}"), plus the "remainder" (everything that is not a neuron).</summary>
    public static LogitAttribution PerNeuron(ActivationCache cache, Tensor tokens, Tensor? incorrectTokens = null, int position = -1)
    {
        var (stack, labels) = Checked(cache).StackNeuronResults(inclRemainder: true, posSlice: PositionRange(cache, position));
        return Attribute(cache, stack, labels, tokens, incorrectTokens, position);
    }

    /// <summary>Attributes any residual stack [components, batch, 1, d_model] taken at <paramref name="position"/>
    /// (e.g. from <see cref="ActivationCache.AccumulatedResid"/> with that position's slice).</summary>
    public static LogitAttribution Attribute(ActivationCache cache, Tensor residualStack, string[] labels, Tensor tokens,
        Tensor? incorrectTokens = null, int position = -1)
    {
        var model = Checked(cache).Model as HookedTransformer ?? throw new NotSupportedException(
            "direct logit attribution reads ln_final and W_U: it needs a cache from a HookedTransformer");
        if (model.Config.OutputLogitsSoftCap > 0)
            throw new NotSupportedException("the model soft-caps its logits (tanh), so they are not a sum of components: direct logit attribution would not add up");
        if (residualStack.Rank != 4 || residualStack.Shape[2] != 1)
            throw new ArgumentException($"the residual stack must be [components, batch, 1, d_model] at one position, got {Tensor.ShapeString(residualStack.Shape)}", nameof(residualStack));
        long batch = residualStack.Shape[1];
        var direction = Direction(model, tokens, incorrectTokens, batch); // [batch, d_model] in W_U's input space
        var normalized = model.Config.NormalizationType == NormalizationType.None
            ? residualStack
            : cache.ApplyLnToStack(residualStack, posSlice: PositionRange(cache, position)); // [c, b, 1, d]
        var w = model.LnFinal.W?.Value;
        var readDirection = w is null ? direction : direction * w; // (x̂ ⊙ w) · u = x̂ · (w ⊙ u)
        var values = (normalized.Squeeze(2) * readDirection.Unsqueeze(0)).Sum(-1); // [c, b]
        var bias = DirectionBias(model, direction, tokens, incorrectTokens); // [b]
        return new LogitAttribution(labels, values, bias);
    }

    private static ActivationCache Checked(ActivationCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        if (!cache.HasBatchDim) throw new ArgumentException("direct logit attribution needs a cache with its batch dim (do not call RemoveBatchDim first)", nameof(cache));
        return cache;
    }

    private static Range PositionRange(ActivationCache cache, int position)
    {
        long n = cache["hook_embed"].Shape[1];
        int p = position < 0 ? (int)(position + n) : position;
        if (p < 0 || p >= n) throw new ArgumentOutOfRangeException(nameof(position), position, $"the cached sequence has {n} positions");
        return p..(p + 1);
    }

    /// <summary>W_U[:, token] (minus W_U[:, incorrect]) per batch element [batch, d_model].</summary>
    private static Tensor Direction(HookedTransformer model, Tensor tokens, Tensor? incorrect, long batch)
    {
        var ids = Ids(tokens, batch, nameof(tokens));
        var wU = model.W_U; // [d_model, vocab]
        var direction = wU.IndexSelect(1, ids).T; // [batch, d_model]
        if (incorrect is not null) direction = direction - wU.IndexSelect(1, Ids(incorrect, batch, nameof(incorrect))).T;
        return direction;
    }

    private static Tensor DirectionBias(HookedTransformer model, Tensor direction, Tensor tokens, Tensor? incorrect)
    {
        long batch = direction.Shape[0];
        var bias = Tensor.Zeros([batch], direction.DType, direction.Device);
        if (model.LnFinal.B?.Value is { } b) bias = bias + (direction * b).Sum(-1);
        var bU = model.Unembed.b_U.Value;
        bias = bias + bU.IndexSelect(0, Ids(tokens, batch, nameof(tokens)));
        if (incorrect is not null) bias = bias - bU.IndexSelect(0, Ids(incorrect, batch, nameof(incorrect)));
        return bias;
    }

    private static Tensor Ids(Tensor tokens, long batch, string name)
    {
        var ids = tokens.Reshape(-1).To(DType.Int64);
        if (ids.Shape[0] != batch)
            throw new ArgumentException($"{name} must hold one token id per batch element ({batch}), got {Tensor.ShapeString(tokens.Shape)}", name);
        return ids;
    }
}
