namespace MechInterp;

/// <summary>
/// An identity point with a TransformerLens name (e.g. <c>blocks.3.attn.hook_pattern</c>) through which the model
/// passes one activation. Instruments attach from outside: hooks registered here (until reset), hooks of the
/// current <see cref="HookContext"/> (one call), backward hooks that see the activation's gradient, and modules
/// spliced in at run time (<see cref="IHookModule"/>). Forward hooks run in the order they were registered, whichever
/// way they were registered, as in TransformerLens.
/// </summary>
public sealed class HookPoint
{
    private readonly object _gate = new();
    private (HookFn Fn, HookDirection Direction, bool Permanent, long Order)[] _hooks = [];
    private IHookModule[] _modules = [];

    /// <summary>Creates a hook point with its full name.</summary>
    public HookPoint(string name) => Name = name;

    /// <summary>Full TransformerLens name.</summary>
    public string Name { get; }

    /// <summary>The layer this hook point belongs to (parsed from "blocks.N."), or null.</summary>
    public int? Layer => Name.StartsWith("blocks.", StringComparison.Ordinal) && int.TryParse(Name.AsSpan(7, Name.IndexOf('.', 7) - 7), out var l) ? l : null;

    /// <summary>Registers a hook that stays until <see cref="RemoveHooks"/> (or, when permanent, until removed with
    /// includePermanent). It runs after every hook registered before it, or before all of them when
    /// <paramref name="prepend"/> is set. Dispose the result to remove just this hook.</summary>
    public IDisposable AddHook(HookFn fn, HookDirection direction = HookDirection.Forward, bool permanent = false, bool prepend = false)
    {
        ArgumentNullException.ThrowIfNull(fn);
        lock (_gate) _hooks = [.. _hooks, (fn, direction, permanent, HookOrder.Next(prepend))];
        return new Remover(this, fn);
    }

    private readonly Dictionary<string, object?> _ctx = new(StringComparer.Ordinal);

    /// <summary>
    /// A scratch dictionary for hooks on this point (TransformerLens's <c>hook.ctx</c>): a forward hook can leave
    /// something here for a backward hook, or for the next hook on the point. Inside a call's hook context
    /// (RunWithHooks, RunWithCache, a <c>Hooks(...)</c> block) it belongs to that call alone: concurrent calls each see
    /// their own, and it is dropped when the call ends. Outside any call context (hooks registered on the point and a
    /// plain Forward) it persists until <see cref="ClearContext"/> or <c>ResetHooks(clearContexts: true)</c>.
    /// </summary>
    public IDictionary<string, object?> Ctx => HookContext.Current?.ContextOf(this) ?? _ctx;

    /// <summary>The step of the generation running this pass, or null outside Generate: a steering hook can act on
    /// generated tokens only (positions from <see cref="MechInterp.GenerationStep.FirstNewPositionInPass"/> on).</summary>
    public GenerationStep? GenerationStep => MechInterp.GenerationStep.Current;

    /// <summary>Empties the persistent <see cref="Ctx"/> of this point (TransformerLens's clear_context).</summary>
    public void ClearContext()
    {
        lock (_gate) _ctx.Clear();
    }

    /// <summary>Removes registered hooks (permanent ones too when asked).</summary>
    public void RemoveHooks(HookDirection? direction = null, bool includePermanent = false)
    {
        lock (_gate)
            _hooks = _hooks.Where(h => (direction is not null && h.Direction != direction) || (h.Permanent && !includePermanent)).ToArray();
    }

    /// <summary>True when any hook (registered here or in the current call's context) would see this point, or a module
    /// is attached here.</summary>
    public bool IsActive => _hooks.Length > 0 || _modules.Length > 0 || (HookContext.Current?.Touches(this) ?? false);

    /// <summary>Number of hooks registered on the point itself (not counting per-call hooks or attached modules).</summary>
    public int HookCount => _hooks.Length;

    /// <summary>True when every hook that would see this point only observes it (<see cref="HookContext.AddObserver"/>):
    /// none is registered on the point itself, none is a backward hook and no module is attached. Also true when no
    /// hook listens.</summary>
    public bool IsObservedOnly => _hooks.Length == 0 && _modules.Length == 0 && (HookContext.Current?.OnlyObserves(this) ?? true);

    /// <summary>True when a backward hook is registered on the point itself.</summary>
    internal bool HasBackwardHooks => _hooks.Any(h => h.Direction == HookDirection.Backward);

    /// <summary>The modules attached here, in attachment order.</summary>
    public IReadOnlyList<IHookModule> AttachedModules => _modules;

    /// <summary>Splices <paramref name="module"/> in after the modules already attached (see <see cref="HookRegistry.Attach"/>).</summary>
    internal void AttachModule(IHookModule module)
    {
        lock (_gate) _modules = [.. _modules, module];
    }

    /// <summary>Takes <paramref name="module"/> out again; false when it was not attached.</summary>
    internal bool DetachModule(IHookModule module)
    {
        lock (_gate)
        {
            int i = Array.IndexOf(_modules, module);
            if (i < 0) return false;
            _modules = [.. _modules[..i], .. _modules[(i + 1)..]];
            return true;
        }
    }

    private sealed class Remover(HookPoint owner, HookFn fn) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate) owner._hooks = owner._hooks.Where(h => h.Fn != fn).ToArray();
        }
    }

    /// <summary>Passes an activation through the point: forward hooks in registration order, then attached modules,
    /// then backward hooks are attached to what comes out.</summary>
    public Tensor Invoke(Tensor x)
    {
        var hooks = _hooks;
        var modules = _modules;
        var ctx = HookContext.Current;
        if (hooks.Length == 0 && modules.Length == 0 && ctx is null) return x;
        var forward = ForwardHooksInOrder(hooks, ctx);
        if (forward.Count > 0 || modules.Length > 0)
        {
            // Inside a block whose temporaries are freed when it ends: the activation and whatever the hooks make
            // belong to the caller's scope instead, since a hook may keep them (a cache, a patching source).
            using var region = TensorScope.EnterHookRegion(x);
            foreach (var fn in forward) x = Apply(fn, x);
            foreach (var m in modules) x = Check(m.Forward(x), x, "attached module") ?? x;
            // A hook that brings in a tensor requiring a gradient starts an autograd graph mid-pass: keep the rest.
            if (x.RequiresGrad && GradMode.IsEnabled) region.KeepTensors();
        }

        bool anyBackward = hooks.Any(h => h.Direction == HookDirection.Backward) || (ctx?.AnyBackward() ?? false);
        if (!anyBackward || !GradMode.IsEnabled) return x;
        var backward = hooks.Where(h => h.Direction == HookDirection.Backward).Select(h => new OrderedHook(h.Order, h.Fn))
            .Concat(ctx?.BackwardHooks(this) ?? []).OrderBy(h => h.Order).Select(h => h.Fn).ToArray();
        if (backward.Length == 0) return x;
        // A node of its own: gradients of later activations flow to here, and when the same tensor also leaves another
        // hook point (hook_mlp_in gets hook_resid_mid's output) each point's hooks see only the gradient through it.
        x = x.RequiresGrad ? x.Permute([.. Enumerable.Range(0, x.Rank)]) : x.Detach().RequiresGrad_();
        foreach (var fn in backward)
        {
            var f = fn;
            x.RegisterGradHook(g => Check(f(g, this), g, "backward"));
        }
        return x;
    }

    /// <summary>This point's forward hooks and the call's, merged by registration number.</summary>
    private List<HookFn> ForwardHooksInOrder((HookFn Fn, HookDirection Direction, bool Permanent, long Order)[] hooks, HookContext? ctx)
    {
        var merged = new List<OrderedHook>();
        foreach (var h in hooks)
            if (h.Direction == HookDirection.Forward) merged.Add(new OrderedHook(h.Order, h.Fn));
        if (ctx is not null) merged.AddRange(ctx.ForwardHooks(this));
        if (merged.Count > 1) merged.Sort((a, b) => a.Order.CompareTo(b.Order));
        return merged.ConvertAll(h => h.Fn);
    }

    private Tensor Apply(HookFn fn, Tensor x) => Check(fn(x, this), x, "forward") ?? x;

    private Tensor? Check(Tensor? result, Tensor original, string kind)
    {
        if (result is null) return null;
        if (!result.Shape.AsSpan().SequenceEqual(original.Shape))
            throw new HookShapeException(Name, original.Shape, result.Shape, kind);
        return result;
    }

    /// <inheritdoc />
    public override string ToString() => $"HookPoint({Name})";
}

/// <summary>A hook returned a tensor whose shape differs from the activation it replaces.</summary>
public sealed class HookShapeException(string hookName, long[] expected, long[] actual, string kind)
    : InvalidOperationException($"{kind} hook on '{hookName}' returned shape {Tensor.ShapeString(actual)} but the activation has shape {Tensor.ShapeString(expected)}: a hook must return a tensor of the same shape (or null to keep it)")
{
    /// <summary>The hook point's name.</summary>
    public string HookName { get; } = hookName;
}
