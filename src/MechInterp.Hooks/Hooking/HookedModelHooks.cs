namespace MechInterp;

/// <summary>Hooks for the duration of one call or one <c>using</c> block (TransformerLens's run_with_hooks and
/// hooks() context manager), written once for every <see cref="IHookedModel"/> (decoders and encoders alike).
/// Per-call hooks are private to the calling logical thread; on a point they run in registration order together with
/// the hooks registered on the point itself, as in TransformerLens.</summary>
public static class HookedModelHooks
{
    /// <summary>Activates forward and backward hooks until the result is disposed: <c>using (model.Hooks(...)) { ... }</c>.
    /// Nested blocks add to the outer one's hooks; on a shared point the outer (earlier) hooks run first.</summary>
    public static IDisposable Hooks(this IHookedModel model, IEnumerable<HookSpec>? forwardHooks = null, IEnumerable<HookSpec>? backwardHooks = null) =>
        Build(model, forwardHooks, backwardHooks).Activate();

    /// <summary>A hook context holding <paramref name="forward"/> and <paramref name="backward"/> resolved on
    /// <paramref name="model"/>'s hook points (exact names are validated), not yet active.</summary>
    public static HookContext Build(IHookedModel model, IEnumerable<HookSpec>? forward, IEnumerable<HookSpec>? backward)
    {
        var ctx = new HookContext();
        foreach (var spec in forward ?? [])
            foreach (var point in spec.Resolve(model.HookDict, model.GetHookPoint)) ctx.Add(point, spec.Fn, HookDirection.Forward, spec.Prepend);
        foreach (var spec in backward ?? [])
            foreach (var point in spec.Resolve(model.HookDict, model.GetHookPoint)) ctx.Add(point, spec.Fn, HookDirection.Backward, spec.Prepend);
        return ctx;
    }

    /// <summary>Runs the model with forward hooks for this call only; returns the forward output (logits by default;
    /// an encoder without MLM head returns its last hidden state).</summary>
    public static Tensor RunWithHooks(this IHookedModel model, Tensor tokens, params HookSpec[] forwardHooks) =>
        model.RunWithHooks(tokens, forwardHooks, null, null);

    /// <summary>Runs the model with forward and backward hooks for this call only. With backward hooks, the loss (or
    /// the returned value, summed) is back-propagated so each backward hook sees the gradient of its activation
    /// (token types and the attention mask of an encoder go in <paramref name="options"/>).</summary>
    public static Tensor RunWithHooks(this IHookedModel model, Tensor tokens, IEnumerable<HookSpec>? forwardHooks,
        IEnumerable<HookSpec>? backwardHooks, CommonForwardOptions? options = null)
    {
        var backward = backwardHooks?.ToArray() ?? [];
        using var active = Build(model, forwardHooks, backward).Activate();
        if (backward.Length == 0) return model.Forward(tokens, options);
        var opts = (options ?? new CommonForwardOptions()) with { ReturnType = options?.ReturnType ?? ReturnType.Loss };
        var output = model.Forward(tokens, opts);
        var scalar = output.NumElements == 1 ? output : output.Sum();
        if (!scalar.RequiresGrad)
            throw new InvalidOperationException("backward hooks need a differentiable forward: do not call RunWithHooks inside GradMode.NoGrad()");
        scalar.Backward();
        return output;
    }

    /// <summary>Runs the model on a batch of texts (padded on the model's padding side, the attention mask derived from
    /// the padding) with forward hooks for this call only.</summary>
    public static Tensor RunWithHooks(this IHookedModel model, IReadOnlyList<string> texts, params HookSpec[] forwardHooks)
    {
        var (tokens, options) = TextBatch.Prepare(model, texts, null);
        return model.RunWithHooks(tokens, forwardHooks, null, options);
    }

    /// <summary>Runs the model on a text (tokenised with the model's defaults) with forward hooks for this call only.</summary>
    public static Tensor RunWithHooks(this IHookedModel model, string text, params HookSpec[] forwardHooks) =>
        model.RunWithHooks(model.ToTokens(text), forwardHooks);
}
