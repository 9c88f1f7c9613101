namespace MechInterp.Backends.Torch;

internal sealed partial class TorchBackend
{
    /// <inheritdoc />
    public TensorHandle View(TensorHandle x, long[] shape)
    {
        var t = T(x);
        if (ShapeUtil.NumElements(shape) != t.numel())
            throw new ArgumentException($"View: cannot view {Tensor.ShapeString(x.Shape)} as {Tensor.ShapeString(shape)} (element counts differ)", nameof(shape));
        return WrapView(t.view(shape), x);
    }

    /// <inheritdoc />
    public TensorHandle Permute(TensorHandle x, int[] dims) => WrapView(T(x).permute(Array.ConvertAll(dims, d => (long)d)), x);

    /// <inheritdoc />
    public TensorHandle Expand(TensorHandle x, long[] shape) => WrapView(T(x).expand(shape), x);

    /// <inheritdoc />
    public TensorHandle Narrow(TensorHandle x, int dim, long start, long length, long step = 1)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "Narrow step must be positive");
        long size = x.Shape[dim];
        long last = length == 0 ? start : start + (length - 1) * step;
        if (start < 0 || length < 0 || (length > 0 && last >= size) || start > size)
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow(dim {dim}, start {start}, length {length}, step {step}) is outside dim {dim} of size {size} in {Tensor.ShapeString(x.Shape)}");
        var t = T(x);
        if (step == 1) return WrapView(t.narrow(dim, start, length), x);
        // slice's end is exclusive: one past the last element taken, so exactly `length` elements result.
        long end = length == 0 ? start : last + 1;
        return WrapView(t.slice(dim, start, end, step), x);
    }

    /// <inheritdoc />
    public bool IsContiguous(TensorHandle x) => T(x).is_contiguous();

    /// <inheritdoc />
    public void CopyInPlace(TensorHandle destination, TensorHandle source) => Written(destination).copy_(T(source));

    /// <inheritdoc />
    public void AddBiasInPlace(TensorHandle x, TensorHandle bias) => Written(x).add_(T(bias));

    /// <inheritdoc />
    public TensorHandle Contiguous(TensorHandle x)
    {
        var t = T(x);
        // contiguous() aliases an already contiguous tensor; the contract asks for storage of our own.
        return Wrap(t.is_contiguous() ? t.clone() : t.contiguous());
    }
}
