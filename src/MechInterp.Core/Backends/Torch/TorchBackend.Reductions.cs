using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

internal sealed partial class TorchBackend
{
    /// <inheritdoc />
    public TensorHandle Reduce(ReduceOp op, TensorHandle x, int dim, bool keepDim)
    {
        var t = T(x);
        var dtype = x.DType;
        switch (op)
        {
            case ReduceOp.Sum:
                // Keep the input dtype (libtorch would widen integers to Int64); Bool counts as Int64.
                return Wrap(t.sum(dim, keepDim, TorchDTypes.ToTorch(dtype == DType.Bool ? DType.Int64 : dtype)));
            case ReduceOp.Mean:
                if (dtype.IsFloatingPoint()) return Wrap(t.mean([dim], keepDim));
                using (var d = t.to_type(torch.ScalarType.Float64))
                using (var m = d.mean([dim], keepDim))
                    return Wrap(m.to_type(TorchDTypes.ToTorch(dtype)));
            case ReduceOp.Max:
            case ReduceOp.Min:
            {
                var (values, indices) = op == ReduceOp.Max ? t.max(dim, keepDim) : t.min(dim, keepDim);
                indices.Dispose();
                return Wrap(values);
            }
            case ReduceOp.ArgMax:
                return Wrap(ArgExtreme(t, dim, keepDim, max: true));
            case ReduceOp.ArgMin:
                return Wrap(ArgExtreme(t, dim, keepDim, max: false));
            case ReduceOp.LogSumExp:
                if (dtype.IsFloatingPoint()) return Wrap(t.logsumexp(dim, keepDim));
                using (var d = t.to_type(torch.ScalarType.Float64))
                using (var l = d.logsumexp(dim, keepDim))
                    return Wrap(l.to_type(TorchDTypes.ToTorch(dtype)));
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op, "unknown reduction");
        }
    }

    /// <summary>Index of the first maximum (minimum) along dim, as documented for torch.argmax.</summary>
    private static TTensor ArgExtreme(TTensor t, int dim, bool keepDim, bool max)
    {
        if (t.dtype == torch.ScalarType.Bool)
        {
            using var b = t.to_type(torch.ScalarType.Byte);
            return max ? b.argmax(dim, keepDim) : b.argmin(dim, keepDim);
        }
        return max ? t.argmax(dim, keepDim) : t.argmin(dim, keepDim);
    }

    /// <inheritdoc />
    public TensorHandle CumSum(TensorHandle x, int dim)
    {
        var dtype = x.DType == DType.Bool ? DType.Int64 : x.DType;
        return Wrap(T(x).cumsum(dim, TorchDTypes.ToTorch(dtype)));
    }
}
