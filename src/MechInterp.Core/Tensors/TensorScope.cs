namespace MechInterp;

/// <summary>
/// Deterministic disposal of tensors: every tensor created on this thread while the scope is the innermost
/// open one is disposed when the scope is disposed, unless moved out with <see cref="Tensor.MoveToOuterScope"/>
/// or <see cref="MoveOut"/>. Open with <c>using var scope = Tensor.Scope();</c>.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static Stack<TensorScope>? t_stack;

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
    public int Count => _owned.Count;

    internal static TensorScope Open()
    {
        var scope = new TensorScope();
        (t_stack ??= new Stack<TensorScope>()).Push(scope);
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
        if (t_stack is not { Count: > 0 } stack || !stack.Peek()._transient) return default;
        var popped = new List<TensorScope>();
        while (stack.Count > 0 && stack.Peek()._transient) popped.Add(stack.Pop());
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
                if (!s._owned.Remove(activation)) continue;
                if (t_stack is { Count: > 0 } stack) stack.Peek()._owned.Add(activation);
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
            var stack = t_stack ??= new Stack<TensorScope>();
            for (int i = Scopes.Count - 1; i >= 0; i--)
                if (!Scopes[i]._disposed) stack.Push(Scopes[i]);
        }
    }

    /// <summary>True when this scope will dispose <paramref name="t"/>.</summary>
    internal bool Owns(Tensor t) => _owned.Contains(t);

    internal static void Register(Tensor t)
    {
        if (t_stack is { Count: > 0 } s) s.Peek()._owned.Add(t);
    }

    internal static void Forget(Tensor t)
    {
        if (t_stack is null) return;
        foreach (var s in t_stack) s._owned.Remove(t);
    }

    internal static void MoveToOuter(Tensor t)
    {
        if (t_stack is null) return;
        TensorScope? owner = null, outer = null;
        foreach (var s in t_stack) // innermost first
        {
            if (owner is null) { if (s._owned.Contains(t)) owner = s; }
            else { outer = s; break; }
        }
        if (owner is null) return;
        owner._owned.Remove(t);
        outer?._owned.Add(t);
    }

    /// <summary>Keeps <paramref name="tensors"/> alive past this scope (they join the enclosing scope, if any).</summary>
    public void MoveOut(params Tensor[] tensors)
    {
        foreach (var t in tensors)
        {
            if (!_owned.Remove(t)) continue;
            if (t_stack is null) continue;
            bool passed = false;
            foreach (var s in t_stack)
            {
                if (passed) { s._owned.Add(t); break; }
                if (ReferenceEquals(s, this)) passed = true;
            }
        }
    }

    /// <summary>Disposes every tensor still owned and closes the scope.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (t_stack is { Count: > 0 })
        {
            if (ReferenceEquals(t_stack.Peek(), this)) t_stack.Pop();
            else
            {
                // Out-of-order disposal: remove this scope wherever it is.
                var rest = t_stack.Where(s => !ReferenceEquals(s, this)).Reverse().ToArray();
                t_stack.Clear();
                foreach (var s in rest) t_stack.Push(s);
            }
        }
        if (_keepOnDispose && t_stack is { Count: > 0 } outer)
            foreach (var t in _owned) outer.Peek()._owned.Add(t);
        else if (!_keepOnDispose)
            foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
