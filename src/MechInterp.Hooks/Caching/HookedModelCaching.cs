namespace MechInterp;

/// <summary>TransformerLens's run_with_cache.</summary>
public static class HookedModelCaching
{
    /// <summary>
    /// Runs the model and records activations. <paramref name="namesFilter"/> selects hook names (all by default);
    /// <paramref name="posSlice"/> keeps only some positions (dim 1, or the query dim of patterns and scores);
    /// <paramref name="includeBackward"/> also back-propagates the loss and stores <c>name + "_grad"</c>;
    /// <paramref name="device"/> moves cached tensors (e.g. off the GPU).
    /// </summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this HookedTransformer model, Tensor tokens,
        Func<string, bool>? namesFilter = null, Range? posSlice = null, bool includeBackward = false, Device? device = null,
        ForwardOptions? options = null, IEnumerable<HookSpec>? forwardHooks = null) =>
        Cache(model, tokens, namesFilter, posSlice, includeBackward, device, options, forwardHooks);

    /// <summary>
    /// Runs an encoder and records activations (same arguments as for a decoder; token types and the attention mask go
    /// in <paramref name="options"/>). Returns the MLM logits, or the last hidden state of a bare encoder, with the cache.
    /// </summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this HookedEncoder model, Tensor tokens,
        Func<string, bool>? namesFilter = null, Range? posSlice = null, bool includeBackward = false, Device? device = null,
        ForwardOptions? options = null, IEnumerable<HookSpec>? forwardHooks = null) =>
        Cache(model, tokens, namesFilter, posSlice, includeBackward, device, options, forwardHooks);

    private static (Tensor Logits, ActivationCache Cache) Cache(IHookedModel model, Tensor tokens, Func<string, bool>? namesFilter,
        Range? posSlice, bool includeBackward, Device? device, ForwardOptions? options, IEnumerable<HookSpec>? forwardHooks)
    {
        var store = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var cache = new ActivationCache(store, model);
        var ctx = HookedModelHooks.Build(model.HookDict, model.GetHookPoint, forwardHooks, null);
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
        var full = model.ForwardFull(tokens, (options ?? new ForwardOptions()) with { ReturnType = ReturnType.Both });
        full.Loss!.Backward();
        return (full.Logits!, cache);
    }

    /// <summary>Same, with an explicit list of names to cache.</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this HookedTransformer model, Tensor tokens, IReadOnlyCollection<string> names,
        Range? posSlice = null, bool includeBackward = false, Device? device = null, ForwardOptions? options = null)
    {
        foreach (var n in names) model.GetHookPoint(n);
        var set = names.ToHashSet(StringComparer.Ordinal);
        return model.RunWithCache(tokens, set.Contains, posSlice, includeBackward, device, options);
    }

    /// <summary>Same for an encoder, with an explicit list of names to cache.</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(this HookedEncoder model, Tensor tokens, IReadOnlyCollection<string> names,
        Range? posSlice = null, bool includeBackward = false, Device? device = null, ForwardOptions? options = null)
    {
        foreach (var n in names) model.GetHookPoint(n);
        var set = names.ToHashSet(StringComparer.Ordinal);
        return model.RunWithCache(tokens, set.Contains, posSlice, includeBackward, device, options);
    }

    private static Tensor Prepare(Tensor x, string name, Range? posSlice, Device? device)
    {
        if (posSlice is { } range && x.Rank >= 2)
        {
            int dim = name.EndsWith("hook_pattern", StringComparison.Ordinal) || name.EndsWith("hook_attn_scores", StringComparison.Ordinal) ? 2 : 1;
            x = x[Enumerable.Repeat((TensorIndex)(..), dim).Append(range).ToArray()];
        }
        if (device is { } d) x = x.To(d);
        return x;
    }
}
