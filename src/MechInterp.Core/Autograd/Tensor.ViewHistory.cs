using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>Set on a tensor made by a view op while gradients are recorded: the tensor that owns the storage (its
    /// base) and how to make this view of any tensor of the base's shape. An in-place write into the view gives the
    /// base a new history (the write is part of it), and every view of that base then takes its own history from the
    /// base's (<see cref="RefreshViewHistory"/>), as PyTorch's views do.</summary>
    private sealed class ViewOf(Tensor baseTensor, Func<Tensor, Tensor> apply, bool overlapping, int generation)
    {
        public Tensor Base { get; } = baseTensor;
        public Func<Tensor, Tensor> Apply { get; } = apply;
        public bool Overlapping { get; } = overlapping;
        public int Generation { get; set; } = generation;
    }

    private ViewOf? _view;
    private int _rebases; // in-place writes that gave this tensor, as a base, a new history

    /// <summary>The handle, or null once disposed.</summary>
    internal Backends.TensorHandle? HandleOrNull => _handle;

    /// <summary>Makes <paramref name="node"/> this tensor's history (a recorded op, or an in-place write's rebase).</summary>
    internal void SetHistory(GradNode node)
    {
        if (GradFn is { } old && ReferenceEquals(old.Output, this)) old.Output = null;
        GradFn = node;
        node.Output = this;
        _requiresGrad = true;
    }

    /// <summary>Records that this tensor is a view of <paramref name="source"/> made by <paramref name="op"/> (only while
    /// gradients are recorded). <paramref name="overlapping"/>: several elements share one location (an expanded view).</summary>
    private void MarkViewOf(Tensor source, Func<Tensor, Tensor> op, bool overlapping = false)
    {
        if (!GradMode.IsEnabled || ReferenceEquals(source, this)) return;
        if (source._view is { } sv && !sv.Base.IsDisposed)
        {
            var inner = sv.Apply;
            _view = new ViewOf(sv.Base, x => op(inner(x)), overlapping || sv.Overlapping, sv.Base._rebases);
        }
        else _view = new ViewOf(source, op, overlapping, source._rebases);
    }

    /// <summary>Where an in-place write into a view has given its base a new history since this view's own was
    /// taken, this view's history becomes "these elements of the base" (the gradient is scattered into the base's
    /// shape at the view's positions).</summary>
    internal void RefreshViewHistory()
    {
        if (_view is not { } v || v.Generation == v.Base._rebases || v.Base.IsDisposed) return;
        v.Generation = v.Base._rebases;
        if (!v.Base.RequiresGrad) return;
        var baseShape = (long[])v.Base.Shape.Clone();
        var apply = v.Apply;
        SetHistory(new GradNode("view_of_rebased", [v.Base], g =>
        {
            long n = ShapeUtil.NumElements(baseShape);
            var positions = ViewPositions(apply, baseShape, g.Device).Reshape(-1);
            return [Zeros([n], g.DType, g.Device).IndexAdd(0, positions, g.Reshape(-1)).Reshape(baseShape)];
        }));
    }

    /// <summary>For each element of the view <paramref name="apply"/> makes of a <paramref name="baseShape"/> tensor,
    /// its flat position in the base (the view applied to the positions themselves, so a copy would do too).</summary>
    private static Tensor ViewPositions(Func<Tensor, Tensor> apply, long[] baseShape, Device device) =>
        apply(Arange(ShapeUtil.NumElements(baseShape), device: device).Reshape(baseShape));
}
