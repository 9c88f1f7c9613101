namespace MechInterp;

/// <summary>Hooks for the duration of one call or one <c>using</c> block (TransformerLens's run_with_hooks and
/// hooks() context manager). Per-call hooks are private to the calling logical thread.</summary>
public static class HookedModelHooks
{
    /// <summary>Activates forward and backward hooks until the result is disposed: <c>using (model.Hooks(...)) { ... }</c>.</summary>
    public static IDisposable Hooks(this HookedTransformer model, IEnumerable<HookSpec>? forwardHooks = null, IEnumerable<HookSpec>? backwardHooks = null) =>
        Build(model.HookDict, model.GetHookPoint, forwardHooks, backwardHooks).Activate();

    internal static HookContext Build(IReadOnlyDictionary<string, HookPoint> hooks, Func<string, HookPoint> lookup, IEnumerable<HookSpec>? forward, IEnumerable<HookSpec>? backward)
    {
        var ctx = new HookContext();
        foreach (var spec in forward ?? [])
            foreach (var point in spec.Resolve(hooks, lookup)) ctx.Add(point, spec.Fn, HookDirection.Forward);
        foreach (var spec in backward ?? [])
            foreach (var point in spec.Resolve(hooks, lookup)) ctx.Add(point, spec.Fn, HookDirection.Backward);
        return ctx;
    }

    /// <summary>Activates forward and backward hooks on an encoder until the result is disposed.</summary>
    public static IDisposable Hooks(this HookedEncoder model, IEnumerable<HookSpec>? forwardHooks = null, IEnumerable<HookSpec>? backwardHooks = null) =>
        Build(model.HookDict, model.GetHookPoint, forwardHooks, backwardHooks).Activate();

    /// <summary>Runs the model with forward hooks for this call only; returns the forward output (logits by default).</summary>
    public static Tensor RunWithHooks(this HookedTransformer model, Tensor tokens, params HookSpec[] forwardHooks) =>
        Run(model, tokens, forwardHooks, null, null);

    /// <summary>Runs the model with forward and backward hooks for this call only. With backward hooks, the loss (or
    /// the returned value, summed) is back-propagated so each backward hook sees the gradient of its activation.</summary>
    public static Tensor RunWithHooks(this HookedTransformer model, Tensor tokens, IEnumerable<HookSpec>? forwardHooks,
        IEnumerable<HookSpec>? backwardHooks, ForwardOptions? options = null) => Run(model, tokens, forwardHooks, backwardHooks, options);

    /// <summary>Runs an encoder with forward hooks for this call only; returns its output (MLM logits, or the last
    /// hidden state of a bare encoder).</summary>
    public static Tensor RunWithHooks(this HookedEncoder model, Tensor tokens, params HookSpec[] forwardHooks) =>
        Run(model, tokens, forwardHooks, null, null);

    /// <summary>Runs an encoder with forward and backward hooks for this call only (token types and the attention mask
    /// go in <paramref name="options"/>); backward hooks see gradients of the masked-LM loss.</summary>
    public static Tensor RunWithHooks(this HookedEncoder model, Tensor tokens, IEnumerable<HookSpec>? forwardHooks,
        IEnumerable<HookSpec>? backwardHooks, ForwardOptions? options = null) => Run(model, tokens, forwardHooks, backwardHooks, options);

    private static Tensor Run(IHookedModel model, Tensor tokens, IEnumerable<HookSpec>? forwardHooks,
        IEnumerable<HookSpec>? backwardHooks, ForwardOptions? options)
    {
        var backward = backwardHooks?.ToArray() ?? [];
        using var active = Build(model.HookDict, model.GetHookPoint, forwardHooks, backward).Activate();
        if (backward.Length == 0) return model.Forward(tokens, options);
        var opts = (options ?? new ForwardOptions()) with { ReturnType = options?.ReturnType ?? ReturnType.Loss };
        var output = model.Forward(tokens, opts);
        var scalar = output.NumElements == 1 ? output : output.Sum();
        if (!scalar.RequiresGrad)
            throw new InvalidOperationException("backward hooks need a differentiable forward: do not call RunWithHooks inside GradMode.NoGrad()");
        scalar.Backward();
        return output;
    }
}
