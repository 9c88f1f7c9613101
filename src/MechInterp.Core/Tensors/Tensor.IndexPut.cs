using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>
    /// This tensor with the region <paramref name="indices"/> selects replaced by <paramref name="value"/> (broadcast to
    /// the region), as a new tensor: Python's <c>act[:, pos] = clean[:, pos]</c> written for a hook that returns its
    /// replacement (<c>return act.IndexPut([Range.All, pos], clean[.., pos]);</c>; inside a collection expression <c>..</c> would be a spread, so write <c>Range.All</c>). Gradients flow to both parts: to this
    /// tensor everywhere outside the region, and to <paramref name="value"/> from the region (summed over broadcast
    /// dims). Indices are integers, ranges, steps, <see cref="TensorIndex.None"/> and <see cref="TensorIndex.Ellipsis"/>.
    /// </summary>
    /// <exception cref="ArgumentException">A tensor index, another device, or a value that does not broadcast to the region.</exception>
    public Tensor IndexPut(TensorIndex[] indices, Tensor value)
    {
        Tensor result;
        using (GradMode.NoGrad())
        {
            result = ZerosLike(this) + Detach(); // a fresh copy we may write into
            result.WriteRegion(indices, value, out _);
        }
        long[] valueShape = value.Shape;
        AutogradRecorder.Record(result, "index_put", [this, value], g =>
        {
            using var _ = GradMode.NoGrad();
            var kept = g.IndexPut(indices, Zeros([], g.DType, g.Device));   // [this]: the region got no gradient
            var written = g.Index(indices).SumToShape(valueShape);         // [value]
            return [kept, written];
        });
        return result;
    }

    /// <summary>Checks an <see cref="IndexPut"/>/<see cref="IndexPut_(TensorIndex[], Tensor)"/> argument pair and writes
    /// <paramref name="value"/> (broadcast, cast to this dtype) into the region of this tensor's own storage; no
    /// gradient is recorded. <paramref name="regionShape"/> is the shape Python's <c>x[indices]</c> has.</summary>
    private void WriteRegion(TensorIndex[] indices, Tensor value, out long[] regionShape)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(value);
        if (indices.Any(i => i.What == TensorIndex.Kind.Tensor))
            throw new ArgumentException("IndexPut writes into a view of the region: use integers, ranges and steps (a tensor of indices selects a copy); for listed positions write them one by one or blend with Tensor.Where and a mask", nameof(indices));
        if (value.Device != Device)
            throw new ArgumentException($"IndexPut: the value is on {value.Device} but the tensor on {Device}: move it with .To(device)", nameof(value));
        using var noGrad = GradMode.NoGrad();
        regionShape = Index(indices).Shape;
        int extra = value.Rank - regionShape.Length; // as PyTorch's setitem: leading size-1 dims of the value are dropped
        if (extra > 0 && value.Shape.Take(extra).All(n => n == 1)) value = value.Reshape(value.Shape[extra..]);
        var filled = ZerosLike(Index(indices)) + value.Detach().To(DType); // [region], value broadcast (a copy: value may alias us)
        if (!filled.Shape.AsSpan().SequenceEqual(regionShape))
            throw new ArgumentException($"IndexPut: a {ShapeString(value.Shape)} value does not broadcast to the region {ShapeString(regionShape)}", nameof(value));
        // Integers become one-wide ranges so the region stays a view of this storage (squeezing a strided view copies).
        var view = Index(AsViewIndices(indices)); // [region with the integer dims kept as 1]
        view.CopyInPlace(filled.Reshape(view.Shape));
    }

    /// <summary>The same selection with each integer as a one-wide range and without inserted axes.</summary>
    private static TensorIndex[] AsViewIndices(TensorIndex[] indices) =>
    [
        .. indices.Where(i => i.What != TensorIndex.Kind.NewAxis).Select(i =>
        {
            if (i.What != TensorIndex.Kind.Single) return i;
            var at = i.Single;
            return (TensorIndex)(at.IsFromEnd ? new Range(at, ^(at.Value - 1)) : new Range(at, at.Value + 1));
        }),
    ];
}
