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

    private TensorScope() { }

    /// <summary>Number of live tensors this scope owns.</summary>
    public int Count => _owned.Count;

    internal static TensorScope Open()
    {
        var scope = new TensorScope();
        (t_stack ??= new Stack<TensorScope>()).Push(scope);
        return scope;
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
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
