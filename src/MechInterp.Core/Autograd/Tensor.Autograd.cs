using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    private bool _requiresGrad;
    private List<Func<Tensor, Tensor?>>? _gradHooks;

    internal GradNode? GradFn { get; set; }

    internal bool RequiresGradInternal { set => _requiresGrad = value; }

    /// <summary>True when gradients flow to (or through) this tensor. Setting it is allowed on leaf tensors only.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (GradFn is not null && !value)
                throw new InvalidOperationException("RequiresGrad can only be switched off on leaf tensors; use Detach() to get a tensor without gradient history");
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"only floating-point tensors can require gradients; this one is {DType}");
            _requiresGrad = value;
        }
    }

    /// <summary>The accumulated gradient of a leaf tensor after <see cref="Backward"/> (or of any tensor with <see cref="RetainGrad"/>).</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>True when the tensor was not produced by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    /// <summary>Keep <see cref="Grad"/> for this non-leaf tensor too.</summary>
    public bool RetainsGrad { get; private set; }

    /// <summary>Asks <see cref="Backward"/> to store this (non-leaf) tensor's gradient in <see cref="Grad"/>.</summary>
    public Tensor RetainGrad()
    {
        RetainsGrad = true;
        return this;
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor (fluent).</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>Name of the op that produced this tensor in the autograd graph (null for leaves).</summary>
    public string? GradFnName => GradFn?.Name;

    /// <summary>Disposes and clears the accumulated gradient.</summary>
    public void ZeroGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>A tensor sharing the data but cut from the autograd graph.</summary>
    public Tensor Detach() => new(Backend.Permute(Handle, Enumerable.Range(0, Rank).ToArray()));

    /// <summary>Registers a hook called with this tensor's gradient during <see cref="Backward"/>; it may return a
    /// replacement gradient (same shape) or null to keep it. The gradient passed in is owned by the autograd engine
    /// and disposed when backward ends: call <see cref="DetachFromScopes"/> on a clone to keep it. Dispose the
    /// result to remove the hook.</summary>
    public IDisposable RegisterGradHook(Func<Tensor, Tensor?> hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        (_gradHooks ??= []).Add(hook);
        return new HookRemover(this, hook);
    }

    private sealed class HookRemover(Tensor owner, Func<Tensor, Tensor?> hook) : IDisposable
    {
        public void Dispose() => owner._gradHooks?.Remove(hook);
    }

    internal Tensor ApplyGradHooks(Tensor grad)
    {
        if (_gradHooks is null) return grad;
        foreach (var hook in _gradHooks.ToArray())
        {
            var replaced = hook(grad);
            if (replaced is null) continue;
            if (!replaced.Shape.AsSpan().SequenceEqual(grad.Shape))
                throw new InvalidOperationException($"a gradient hook returned shape {ShapeString(replaced.Shape)} but the gradient has shape {ShapeString(grad.Shape)}");
            grad = replaced;
        }
        return grad;
    }

    /// <summary>Computes gradients of this tensor with respect to every leaf that requires them, accumulating into
    /// their <see cref="Grad"/>. A non-scalar tensor needs <paramref name="gradient"/> (same shape).</summary>
    public void Backward(Tensor? gradient = null) => BackwardEngine.Run(this, gradient);
}
