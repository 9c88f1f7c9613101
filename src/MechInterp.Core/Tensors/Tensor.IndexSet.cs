using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>
    /// Python's <c>act[:, pos] = value</c>: writes <paramref name="value"/> (broadcast to the region, cast to this dtype)
    /// into the region <paramref name="indices"/> selects, in this tensor's own storage (every view of it sees the
    /// change), and returns this tensor. The same as the indexer's setter (<c>act[.., pos] = value</c>).
    /// <para>With gradients recorded, the write becomes part of the graph as in PyTorch: this tensor's history is
    /// rebased onto the write, so gradients reach what was kept (outside the region) and <paramref name="value"/>
    /// (inside it); written through a view, the base the view belongs to is rebased and every view of it follows.
    /// Every storage keeps a write version: an op that saved this tensor (or another view of its storage) for
    /// backward before the write makes <see cref="Backward"/> throw <see cref="InPlaceModificationException"/>
    /// instead of computing a wrong gradient; <see cref="IndexPut"/> (out of place) never conflicts.</para>
    /// </summary>
    /// <exception cref="InvalidOperationException">A leaf that requires gradients while they are recorded (write under
    /// <see cref="GradMode.NoGrad"/>, or into a clone), or an expanded view (several elements share one location).</exception>
    /// <exception cref="ArgumentException">A tensor index, another device, or a value that does not broadcast to the region.</exception>
    public Tensor IndexPut_(TensorIndex[] indices, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (GradMode.IsEnabled && IsLeaf && RequiresGrad)
            throw new InvalidOperationException($"an in-place write into a {ShapeString(Shape)} leaf tensor that requires gradients would change it behind autograd's back: write under GradMode.NoGrad() (e.g. to initialise it), or clone it and write into the clone");
        if (_view is { Overlapping: true })
            throw new InvalidOperationException($"cannot write in place into this {ShapeString(Shape)} tensor: it is an expanded (broadcast) view, so several of its elements share one memory location; clone it first (or use IndexPut)");
        bool record = GradMode.IsEnabled && (RequiresGrad || value.RequiresGrad || _view is { Base.RequiresGrad: true });
        if (record) RefreshViewHistory();
        WriteRegion(indices, value, out var regionShape);
        if (!record) return this;
        if (_view is { } view && !view.Base.IsDisposed) RebaseThroughView(view, indices, value, regionShape);
        else RebaseOnto(indices, value);
        return this;
    }

    /// <summary>Writes the scalar <paramref name="value"/> into the region (<c>act[:, pos] = 0.0</c>); see
    /// <see cref="IndexPut_(TensorIndex[], Tensor)"/>.</summary>
    public Tensor IndexPut_(TensorIndex[] indices, double value) =>
        IndexPut_(indices, Full([], value, DType.IsFloatingPoint() ? DType : DType.Float64, Device));

    /// <summary>This tensor's history becomes "the old history with the region replaced by the value".</summary>
    private void RebaseOnto(TensorIndex[] indices, Tensor value)
    {
        long[] valueShape = value.Shape;
        SetHistory(new GradNode("index_put_", [this, value], g =>
        {
            var kept = g.IndexPut(indices, Zeros([], g.DType, g.Device)); // [this]: the overwritten elements got no gradient
            var written = g.Index(indices).SumToShape(valueShape);        // [value]
            return [kept, written];
        }));
        _rebases++;
    }

    /// <summary>The write went through a view: the base's history becomes "old base with the view's region replaced"
    /// (positions found by applying the view to the base's flat positions), and this view takes its new history from it.</summary>
    private void RebaseThroughView(ViewOf view, TensorIndex[] indices, Tensor value, long[] regionShape)
    {
        var baseTensor = view.Base;
        var baseShape = (long[])baseTensor.Shape.Clone();
        long[] valueShape = value.Shape;
        var apply = view.Apply;
        baseTensor.SetHistory(new GradNode("copy_slices", [baseTensor, value], g =>
        {
            long n = ShapeUtil.NumElements(baseShape);
            var region = ViewPositions(apply, baseShape, g.Device).Index(indices).Reshape(-1); // flat base positions written
            var flat = g.Reshape(-1);
            var hit = Zeros([n], g.DType, g.Device).IndexAdd(0, region, OnesLike(region).To(g.DType)) > 0;
            var kept = Where(hit, Zeros([], g.DType, g.Device), flat).Reshape(baseShape);
            var written = flat.IndexSelect(0, region).Reshape(regionShape).SumToShape(valueShape);
            return [kept, written];
        }));
        baseTensor._rebases++;
        RefreshViewHistory();
    }
}
