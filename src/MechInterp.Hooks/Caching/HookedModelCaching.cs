namespace MechInterp;

/// <summary>TransformerLens's run_with_cache, written once for every <see cref="IHookedModel"/>.</summary>
public static class HookedModelCaching
{
    /// <summary>
    /// Runs the model and records activations. <paramref name="namesFilter"/> selects hook names (all by default);
    /// <paramref name="posSlice"/> keeps only some positions (dim 1, or the query dim of patterns and scores): a range or a
    /// list keeps the dim, a single index drops it, as TransformerLens's pos_slice does;
    /// <paramref name="includeBackward"/> also back-propagates the loss and stores <c>name + "_grad"</c>;
    /// <paramref name="device"/> moves cached tensors (e.g. off the GPU); <paramref name="forwardHooks"/> run for this
    /// call too, before the cache records (so the cache holds their edits). For an encoder, token types and the
    /// attention mask go in <paramref name="options"/>, and a bare encoder returns its last hidden state as "logits".
    /// Hook points of attached modules (an SAE's <c>hook_sae_acts_post</c>, ...) are recorded like the model's own.
    /// </summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this IHookedModel model, Tensor tokens,
        Func<string, bool>? namesFilter = null, Slice? posSlice = null, bool includeBackward = false, Device? device = null,
        CommonForwardOptions? options = null, IEnumerable<HookSpec>? forwardHooks = null)
    {
        var store = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var cache = new ActivationCache(store, model);
        var ctx = HookedModelHooks.Build(model, forwardHooks, null);
        var gate = new object();
        foreach (var point in model.HookDict.Values)
        {
            if (namesFilter is not null && !namesFilter(point.Name)) continue;
            ctx.AddObserver(point, (x, h) => { lock (gate) cache.Add(h.Name, Prepare(x.Detach(), h.Name, posSlice, device)); });
            if (includeBackward)
                ctx.Add(point, (g, h) => { lock (gate) cache.Add(h.Name + "_grad", Prepare(g.Detach(), h.Name, posSlice, device)); return null; }, HookDirection.Backward);
        }
        using var active = ctx.Activate();
        if (!includeBackward)
        {
            using var noGrad = GradMode.NoGrad();
            return (model.Forward(tokens, options), cache);
        }
        var full = model.ForwardFull(tokens, (options ?? new CommonForwardOptions()) with { ReturnType = ReturnType.Both });
        full.Loss!.Backward();
        return (full.Logits!, cache);
    }

    /// <summary>Same, with an explicit list of names to cache (each validated).</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this IHookedModel model, Tensor tokens, IReadOnlyCollection<string> names,
        Slice? posSlice = null, bool includeBackward = false, Device? device = null, CommonForwardOptions? options = null)
    {
        foreach (var n in names) model.GetHookPoint(n);
        var set = names.ToHashSet(StringComparer.Ordinal);
        return model.RunWithCache(tokens, set.Contains, posSlice, includeBackward, device, options);
    }

    /// <summary>Runs the model on a text (tokenised with the model's defaults) and records activations.</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this IHookedModel model, string text,
        Func<string, bool>? namesFilter = null, Slice? posSlice = null) =>
        model.RunWithCache(model.ToTokens(text), namesFilter, posSlice);

    /// <summary>Runs the model on a batch of texts, padded on the model's padding side with the attention mask derived
    /// from the padding (TransformerLens's run_with_cache on a list of strings), and records activations.</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this IHookedModel model, IReadOnlyList<string> texts,
        Func<string, bool>? namesFilter = null, Slice? posSlice = null, bool includeBackward = false, Device? device = null,
        CommonForwardOptions? options = null)
    {
        var (tokens, opts) = TextBatch.Prepare(model, texts, options);
        return model.RunWithCache(tokens, namesFilter, posSlice, includeBackward, device, opts);
    }

    private static Tensor Prepare(Tensor x, string name, Slice? posSlice, Device? device)
    {
        if (posSlice is { } slice && x.Rank >= 2)
        {
            int dim = name.EndsWith("hook_pattern", StringComparison.Ordinal) || name.EndsWith("hook_attn_scores", StringComparison.Ordinal) ? 2 : 1;
            x = slice.Apply(x, dim);
        }
        if (device is { } d) x = x.To(d);
        return x;
    }
}
