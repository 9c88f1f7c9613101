namespace MechInterp;

/// <summary>
/// Hooks that apply to one call only (RunWithHooks, RunWithCache). The context flows with the executing
/// logical thread (<see cref="AsyncLocal{T}"/>), so concurrent calls on the same model never see each other's hooks.
/// </summary>
public sealed class HookContext
{
    private static readonly AsyncLocal<HookContext?> s_current = new();

    private readonly Dictionary<HookPoint, List<OrderedHook>> _forward = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<HookPoint, List<OrderedHook>> _backward = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<HookFn> _observers = new(ReferenceEqualityComparer.Instance);

    private readonly Dictionary<HookPoint, Dictionary<string, object?>> _contexts = new(ReferenceEqualityComparer.Instance);

    /// <summary>The per-call <see cref="HookPoint.Ctx"/> of <paramref name="point"/>, made on first use; it lives as long
    /// as this context. Hooks of one call that run on several threads share it, so guard concurrent writes.</summary>
    internal IDictionary<string, object?> ContextOf(HookPoint point)
    {
        lock (_contexts)
        {
            if (!_contexts.TryGetValue(point, out var ctx)) _contexts[point] = ctx = new Dictionary<string, object?>(StringComparer.Ordinal);
            return ctx;
        }
    }

    /// <summary>The context active on this logical thread, if any.</summary>
    public static HookContext? Current => s_current.Value;

    /// <summary>True when some hook point in this context has a backward hook.</summary>
    public bool HasBackwardHooks => _backward.Count > 0;

    /// <summary>Adds a hook for this call. Hooks on one point run in registration order, counting hooks registered on
    /// the point itself and in enclosing contexts (TransformerLens's order); <paramref name="prepend"/> runs it before
    /// every hook registered so far.</summary>
    public HookContext Add(HookPoint point, HookFn fn, HookDirection direction = HookDirection.Forward, bool prepend = false)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(fn);
        var map = direction == HookDirection.Forward ? _forward : _backward;
        if (!map.TryGetValue(point, out var list)) map[point] = list = [];
        list.Add(new OrderedHook(HookOrder.Next(prepend), fn));
        return this;
    }

    /// <summary>Adds a forward hook for this call that only reads the activation: it never edits it (in place or by
    /// returning a replacement). Where every hook on a point is an observer, the model may compute past the point in
    /// fused kernels before the observers run (RunWithCache's hooks are observers), so an edit would be lost or seen only
    /// in part: an observer that writes into its activation is caught at once
    /// (<see cref="ObserverEditedException"/>), on both backends.</summary>
    public HookContext AddObserver(HookPoint point, Action<Tensor, HookPoint> observe)
    {
        ArgumentNullException.ThrowIfNull(observe);
        HookFn fn = (x, h) =>
        {
            long before = Backends.StorageFacts.WriteVersion(x);
            observe(x, h);
            if (Backends.StorageFacts.WriteVersion(x) != before) throw new ObserverEditedException(h.Name);
            return null;
        };
        _observers.Add(fn);
        return Add(point, fn);
    }

    /// <summary>True when every forward hook of this context (and its parents) on <paramref name="p"/> is an observer
    /// and none of them has a backward hook there.</summary>
    internal bool OnlyObserves(HookPoint p)
    {
        for (var c = this; c is not null; c = c.Parent)
        {
            if (c._backward.ContainsKey(p)) return false;
            if (c._forward.TryGetValue(p, out var list))
                foreach (var f in list)
                    if (!c._observers.Contains(f.Fn)) return false;
        }
        return true;
    }

    /// <summary>Makes this context current until the result is disposed (contexts nest: the outer one's hooks still run).</summary>
    public IDisposable Activate()
    {
        var previous = s_current.Value;
        Parent = previous;
        s_current.Value = this;
        return new Restore(previous);
    }

    internal HookContext? Parent { get; private set; }

    internal IEnumerable<OrderedHook> ForwardHooks(HookPoint p)
    {
        for (var c = this; c is not null; c = c.Parent)
            if (c._forward.TryGetValue(p, out var l)) foreach (var f in l) yield return f;
    }

    internal IEnumerable<OrderedHook> BackwardHooks(HookPoint p)
    {
        for (var c = this; c is not null; c = c.Parent)
            if (c._backward.TryGetValue(p, out var l)) foreach (var f in l) yield return f;
    }

    internal bool Touches(HookPoint p)
    {
        for (var c = this; c is not null; c = c.Parent)
            if (c._forward.ContainsKey(p) || c._backward.ContainsKey(p)) return true;
        return false;
    }

    internal bool AnyBackward()
    {
        for (var c = this; c is not null; c = c.Parent) if (c.HasBackwardHooks) return true;
        return false;
    }

    private sealed class Restore(HookContext? previous) : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            s_current.Value = previous;
        }
    }
}

/// <summary>A hook registered as an observer (<see cref="HookContext.AddObserver"/>) wrote into the activation it was
/// given.</summary>
public sealed class ObserverEditedException(string hookName) : InvalidOperationException(
    $"an observer hook on '{hookName}' wrote into its activation: observers may only read (the model may already have computed past the point from the unedited value). Register an editing hook instead (HookSpec / RunWithHooks / Hooks(...)), which returns or writes the new value")
{
    /// <summary>The hook point's name.</summary>
    public string HookName { get; } = hookName;
}
