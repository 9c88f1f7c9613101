namespace MechInterp;

/// <summary>
/// Deterministic disposal of tensors: every tensor created in this logical flow while the scope is the innermost
/// open one is disposed when the scope is disposed, unless moved out with <see cref="Tensor.MoveToOuterScope"/>
/// or <see cref="MoveOut"/>. Open with <c>using var scope = Tensor.Scope();</c>.
/// Scopes follow the same flow rule as <see cref="GradMode"/> and <see cref="HookContext"/>: they are
/// <see cref="AsyncLocal{T}"/>, so a scope stays current across <c>await</c> and work started inside it
/// (<c>Task.Run</c>, <c>Parallel.For</c>) allocates into it too; a scope is safe to allocate into from several threads.
/// </summary>
public sealed class TensorScope : IDisposable
{
    /// <summary>The innermost open scope of this logical flow and the ones around it (an immutable list, so flows that
    /// fork see the stack as it was when they forked).</summary>
    private static readonly AsyncLocal<Node?> s_top = new();

    private sealed record Node(TensorScope Scope, Node? Next)
    {
        public IEnumerable<TensorScope> InnermostFirst()
        {
            for (var n = this; n is not null; n = n.Next) yield return n.Scope;
        }
    }

    private static Node? Top => s_top.Value;
    private static IEnumerable<TensorScope> Stack => Top?.InnermostFirst() ?? [];
    private static void Push(TensorScope scope) => s_top.Value = new Node(scope, s_top.Value);

    private readonly HashSet<Tensor> _owned = new(ReferenceEqualityComparer.Instance);
    private bool _disposed;

    /// <summary>An engine-internal scope (e.g. one transformer block's temporaries): tensors that leave the engine
    /// (through a hook, or into a cache) are moved past it, and code outside the engine never allocates into it.</summary>
    private bool _transient;

    /// <summary>Set when a gradient started flowing through a transient scope (a hook returned a tensor that requires
    /// one): its tensors may be in the autograd graph, so ending the scope hands them to the enclosing scope instead.</summary>
    private bool _keepOnDispose;

    private TensorScope() { }

    /// <summary>Number of live tensors this scope owns.</summary>
    public int Count
    {
        get { lock (_owned) return _owned.Count; }
    }

    internal static TensorScope Open()
    {
        var scope = new TensorScope();
        Push(scope);
        return scope;
    }

    /// <summary>Opens an engine-internal scope whose tensors are freed when it ends, except those a hook saw
    /// (see <see cref="EnterHookRegion"/>) and those moved out.</summary>
    internal static TensorScope OpenTransient()
    {
        var scope = Open();
        scope._transient = true;
        return scope;
    }

    /// <summary>Until the result is disposed, tensors created on this thread belong to the innermost scope that is not
    /// engine-internal (the caller's), so they outlive the engine's temporaries. Used for tensors the engine builds
    /// for later blocks (masks) and around user code (hooks).</summary>
    internal static SuspendedScopes SuspendTransient()
    {
        if (Top is not { Scope._transient: true }) return default;
        var popped = new List<TensorScope>();
        while (Top is { Scope._transient: true } top) { popped.Add(top.Scope); s_top.Value = top.Next; }
        return new SuspendedScopes(popped);
    }

    /// <summary>Prepares for running hooks on <paramref name="activation"/>: when it belongs to an engine-internal
    /// scope it moves to the caller's scope (a hook may keep it), and the hooks' own tensors are made in the
    /// caller's scope too, until the result is disposed.</summary>
    internal static SuspendedScopes EnterHookRegion(Tensor activation)
    {
        var suspended = SuspendTransient();
        if (suspended.Scopes is { } popped)
        {
            foreach (var s in popped)
            {
                if (!s.Remove(activation)) continue;
                Top?.Scope.Add(activation);
                break;
            }
        }
        return suspended;
    }

    /// <summary>Engine-internal scopes taken off the stack by <see cref="SuspendTransient"/>; disposing puts them back.</summary>
    internal readonly struct SuspendedScopes(List<TensorScope>? scopes) : IDisposable
    {
        internal List<TensorScope>? Scopes { get; } = scopes;

        /// <summary>Makes the suspended scopes hand their tensors to the enclosing scope when they end instead of freeing
        /// them (a hook started a gradient: what follows may be in the graph).</summary>
        internal void KeepTensors()
        {
            if (Scopes is null) return;
            foreach (var s in Scopes) s._keepOnDispose = true;
        }

        /// <summary>Puts the suspended scopes back, innermost last.</summary>
        public void Dispose()
        {
            if (Scopes is null) return;
            for (int i = Scopes.Count - 1; i >= 0; i--)
                if (!Scopes[i]._disposed) Push(Scopes[i]);
        }
    }

    /// <summary>True when this scope will dispose <paramref name="t"/>.</summary>
    internal bool Owns(Tensor t)
    {
        lock (_owned) return _owned.Contains(t);
    }

    private void Add(Tensor t)
    {
        lock (_owned) _owned.Add(t);
    }

    private bool Remove(Tensor t)
    {
        lock (_owned) return _owned.Remove(t);
    }

    /// <summary>Gives <paramref name="t"/> to the innermost open scope (skipping one disposed from another flow).</summary>
    internal static void Register(Tensor t)
    {
        for (var n = Top; n is not null; n = n.Next)
            if (!n.Scope._disposed) { n.Scope.Add(t); return; }
    }

    internal static void Forget(Tensor t)
    {
        foreach (var s in Stack) s.Remove(t);
    }

    internal static void MoveToOuter(Tensor t)
    {
        TensorScope? owner = null, outer = null;
        foreach (var s in Stack) // innermost first
        {
            if (owner is null) { if (s.Owns(t)) owner = s; }
            else { outer = s; break; }
        }
        if (owner is null) return;
        owner.Remove(t);
        outer?.Add(t);
    }

    /// <summary>Keeps <paramref name="tensors"/> alive past this scope (they join the enclosing scope, if any).</summary>
    public void MoveOut(params Tensor[] tensors)
    {
        foreach (var t in tensors)
        {
            if (!Remove(t)) continue;
            bool passed = false;
            foreach (var s in Stack)
            {
                if (passed) { s.Add(t); break; }
                if (ReferenceEquals(s, this)) passed = true;
            }
        }
    }

    /// <summary>Disposes every tensor still owned and closes the scope.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Top is { } top)
        {
            if (ReferenceEquals(top.Scope, this)) s_top.Value = top.Next;
            else if (top.InnermostFirst().Any(s => ReferenceEquals(s, this)))
            {
                // Out-of-order disposal: remove this scope wherever it is.
                Node? rebuilt = null;
                foreach (var s in top.InnermostFirst().Where(s => !ReferenceEquals(s, this)).Reverse()) rebuilt = new Node(s, rebuilt);
                s_top.Value = rebuilt;
            }
        }
        Tensor[] owned;
        lock (_owned) owned = [.. _owned];
        if (_keepOnDispose && Top is { } outer)
            foreach (var t in owned) outer.Scope.Add(t);
        else if (!_keepOnDispose)
            foreach (var t in owned) t.Dispose();
        lock (_owned) _owned.Clear();
    }
}
