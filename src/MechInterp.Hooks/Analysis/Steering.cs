namespace MechInterp.Analysis;

/// <summary>
/// Activation steering (Turner et al.'s ActAdd, Rimsky et al.'s contrastive activation addition): add a vector,
/// typically the difference of mean activations between two prompt sets, to a hook point's activation
/// [batch, pos, d_model] for a run or during generation.
/// </summary>
public static class Steering
{
    /// <summary>A hook adding <paramref name="coefficient"/> · <paramref name="vector"/> [d_model] at
    /// <paramref name="hookName"/> to the pass's positions from <paramref name="fromPosition"/> on (all by default).</summary>
    public static HookSpec Add(string hookName, Tensor vector, double coefficient = 1, int fromPosition = 0)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (vector.Rank != 1) throw new ArgumentException($"a steering vector is [d_model], got {Tensor.ShapeString(vector.Shape)}", nameof(vector));
        return new HookSpec(hookName, (x, _) => AddAt(x, vector, coefficient, p => p >= fromPosition));
    }

    /// <summary>mean(activation at <paramref name="hookName"/>, <paramref name="position"/>) over
    /// <paramref name="positive"/> minus the same over <paramref name="negative"/> (token ids [batch, pos], any batch
    /// sizes): the contrastive steering vector [d_model].</summary>
    public static Tensor MeanDifference(IHookedModel model, string hookName, Tensor positive, Tensor negative, int position = -1)
    {
        ArgumentNullException.ThrowIfNull(model);
        return MeanActivation(model, hookName, positive, position) - MeanActivation(model, hookName, negative, position);
    }

    /// <summary>The mean activation [d_model] at <paramref name="hookName"/> and <paramref name="position"/> over the
    /// prompts <paramref name="tokens"/> [batch, pos].</summary>
    public static Tensor MeanActivation(IHookedModel model, string hookName, Tensor tokens, int position = -1)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.GetHookPoint(hookName);
        var (logits, cache) = model.RunWithCache(tokens, name => name == hookName);
        logits.Dispose();
        using (cache)
        {
            var act = cache[hookName];                                    // [batch, pos, d_model]
            if (act.Rank != 3) throw new ArgumentException($"'{hookName}' is {Tensor.ShapeString(act.Shape)}; steering reads a residual-like [batch, pos, d_model] activation", nameof(hookName));
            long p = position < 0 ? act.Shape[1] + position : position;
            if (p < 0 || p >= act.Shape[1]) throw new ArgumentOutOfRangeException(nameof(position), position, $"the prompts have {act.Shape[1]} positions");
            return act.Select(1, p).Mean(0).DetachFromScopes();
        }
    }

    /// <summary>Generates from <paramref name="prompt"/> [batch, pos] with the vector added at <paramref name="hookName"/>:
    /// at every position, or with <paramref name="newTokensOnly"/> only at the generated tokens' positions (the prompt's
    /// activations stay as they were). Works with and without the key/value cache.</summary>
    public static Tensor Generate(HookedTransformer model, Tensor prompt, string hookName, Tensor vector, double coefficient = 1,
        bool newTokensOnly = false, GenerateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerateOptions();
        long promptLength = prompt.Rank == 1 ? prompt.Shape[0] : prompt.Shape[1];
        long seen = 0; // absolute position of the pass's first token: a cached pass continues where the last one ended
        var hook = new HookSpec(hookName, (x, _) =>
        {
            long offset = options.UseKvCache ? seen : 0;
            seen = offset + x.Shape[1];
            return AddAt(x, vector, coefficient, p => !newTokensOnly || p + offset >= promptLength);
        });
        using (model.Hooks([hook]))
            return model.Generate(prompt, options);
    }

    private static Tensor AddAt(Tensor x, Tensor vector, double coefficient, Func<long, bool> steered)
    {
        if (x.Rank != 3 || x.Shape[2] != vector.Shape[0])
            throw new ArgumentException($"the steering vector [{vector.Shape[0]}] does not fit the activation {Tensor.ShapeString(x.Shape)} (expected [batch, pos, {vector.Shape[0]}])");
        long n = x.Shape[1];
        var mask = new float[n];
        for (long p = 0; p < n; p++) mask[p] = steered(p) ? (float)coefficient : 0f;
        var scale = Tensor.FromArray(mask, 1, n, 1).To(x.Device).To(x.DType);    // [1, pos, 1]
        return x + scale * vector.To(x.Device).To(x.DType).Reshape(1, 1, vector.Shape[0]);
    }
}
