using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

internal sealed partial class TorchBackend
{
    /// <summary>The index as an Int64 native tensor (a new tensor the caller disposes when converted, else null).</summary>
    private TTensor Index(TensorHandle index, out TTensor? converted)
    {
        var t = T(index);
        converted = t.dtype == torch.ScalarType.Int64 ? null : t.to_type(torch.ScalarType.Int64);
        return converted ?? t;
    }

    /// <inheritdoc />
    public TensorHandle IndexSelect(TensorHandle x, int dim, TensorHandle index)
    {
        var i = Index(index, out var owned);
        using (owned) return Wrap(T(x).index_select(dim, i));
    }

    /// <inheritdoc />
    public TensorHandle Gather(TensorHandle x, int dim, TensorHandle index)
    {
        var i = Index(index, out var owned);
        using (owned) return Wrap(T(x).gather(dim, i));
    }

    /// <inheritdoc />
    public TensorHandle ScatterAdd(TensorHandle x, int dim, TensorHandle index, TensorHandle src)
    {
        var i = Index(index, out var owned);
        using (owned) return Wrap(T(x).scatter_add(dim, i, T(src)));
    }

    /// <inheritdoc />
    public TensorHandle IndexAdd(TensorHandle x, int dim, TensorHandle index, TensorHandle src)
    {
        var i = Index(index, out var owned);
        using var one = (Scalar)1;
        using (owned) return Wrap(T(x).index_add(dim, i, T(src), one));
    }

    /// <inheritdoc />
    public TensorHandle Concat(TensorHandle[] xs, int dim)
    {
        var parts = Array.ConvertAll(xs, T);
        return Wrap(torch.cat(parts, dim));
    }

    /// <inheritdoc />
    public (TensorHandle Values, TensorHandle Indices) TopK(TensorHandle x, int k, int dim, bool largest)
    {
        var (values, indices) = T(x).topk(k, dim, largest, sorted: true);
        return (Wrap(values), Wrap(indices));
    }

    /// <inheritdoc />
    public (TensorHandle Values, TensorHandle Indices) Sort(TensorHandle x, int dim, bool descending)
    {
        var (values, indices) = T(x).sort(dim, descending, stable: true);
        return (Wrap(values), Wrap(indices));
    }
}
