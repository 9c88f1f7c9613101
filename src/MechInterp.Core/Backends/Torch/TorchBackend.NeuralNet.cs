using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

internal sealed partial class TorchBackend
{
    /// <inheritdoc />
    public TensorHandle MatMul(TensorHandle a, TensorHandle b)
    {
        var ta = T(a);
        var tb = T(b);
        // libtorch aborts the whole process on some matmul shape mismatches: validate everything first.
        CheckMatMulShapes(a.Shape, b.Shape);
        if (a.DType != b.DType)
            throw new ArgumentException($"MatMul: operands have different dtypes ({a.DType} and {b.DType}); convert one with .To(dtype)");
        if (a.DType == DType.Bool)
            throw new ArgumentException($"MatMul does not support Bool tensors ({Tensor.ShapeString(a.Shape)} @ {Tensor.ShapeString(b.Shape)}): convert them to a numeric dtype");
        return Wrap(torch.matmul(ta, tb));
    }

    /// <summary>Checks a [..., M, K] @ [..., K, N] product with equal batch dims; throws naming both shapes.</summary>
    internal static void CheckMatMulShapes(long[] a, long[] b)
    {
        string pair = $"{Tensor.ShapeString(a)} @ {Tensor.ShapeString(b)}";
        if (a.Length < 2 || b.Length < 2)
            throw new ArgumentException($"MatMul: both operands need at least 2 dims at the backend, got {pair}");
        if (a.Length != b.Length)
            throw new ArgumentException($"MatMul: operands have different ranks ({a.Length} and {b.Length}) in {pair}; broadcast the batch dims first");
        for (int i = 0; i < a.Length - 2; i++)
            if (a[i] != b[i])
                throw new ArgumentException($"MatMul: batch dim {i} differs ({a[i]} vs {b[i]}) in {pair}");
        if (a[^1] != b[^2])
            throw new ArgumentException($"MatMul: inner dimensions differ ({a[^1]} vs {b[^2]}) in {pair}");
    }

    /// <inheritdoc />
    public TensorHandle Softmax(TensorHandle x, int dim, bool log)
    {
        var t = T(x);
        return Wrap(log ? t.log_softmax(dim) : t.softmax(dim));
    }

    /// <inheritdoc />
    public (TensorHandle Normalized, TensorHandle Scale) NormalizeWithScale(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps, bool rms)
    {
        if (rms && (weight is not null || bias is not null)) throw new ArgumentException("NormalizeWithScale for RMS returns the normalized input before any weight: pass no weight or bias");
        var t = T(x);
        using var mean = rms ? null : t.mean([-1L], keepdim: true);
        var centered = rms ? t : t.sub(mean!);
        try
        {
            using var squared = centered.square();
            using var variance = squared.mean([-1L], keepdim: true);
            using var shifted = variance.add(eps);
            var scale = shifted.sqrt();
            var normalized = centered.div(scale);
            if (weight is not null) normalized.mul_(T(weight));
            if (bias is not null) normalized.add_(T(bias));
            return (Wrap(normalized), Wrap(scale));
        }
        finally
        {
            if (!rms) centered.Dispose();
        }
    }

    /// <inheritdoc />
    public TensorHandle LayerNorm(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps)
    {
        var t = T(x);
        long n = x.Shape[^1];
        CheckNormParam(weight, n, x.Shape, "LayerNorm weight");
        CheckNormParam(bias, n, x.Shape, "LayerNorm bias");
        var w = weight is null ? null : T(weight);
        var b = bias is null ? null : T(bias);
        return Wrap(torch.nn.functional.layer_norm(t, [n], w, b, eps));
    }

    /// <inheritdoc />
    public TensorHandle RmsNorm(TensorHandle x, TensorHandle? weight, double eps)
    {
        var t = T(x);
        CheckNormParam(weight, x.Shape[^1], x.Shape, "RmsNorm weight");
        var w = weight is null ? null : T(weight);
        bool narrow = x.DType is DType.Float16 or DType.BFloat16;
        if (!narrow) return Wrap(RmsNormCore(t, w, eps));
        // Half types: compute in float32 and round once at the end (as Hugging Face's RMSNorm does).
        using var xf = t.to_type(torch.ScalarType.Float32);
        using var wf = w?.to_type(torch.ScalarType.Float32);
        using var y = RmsNormCore(xf, wf, eps);
        return Wrap(y.to_type(t.dtype));
    }

    /// <summary>x * rsqrt(mean(x²) + eps) * w over the last dim.</summary>
    private static TTensor RmsNormCore(TTensor x, TTensor? w, double eps)
    {
        using var sq = x.square();
        using var ms = sq.mean([-1L], keepdim: true);
        using var epsScalar = (Scalar)eps;
        using var r = ms.add_(epsScalar).rsqrt_();
        var y = x.mul(r);
        if (w is not null) y.mul_(w);
        return y;
    }

    private static void CheckNormParam(TensorHandle? p, long n, long[] input, string what)
    {
        if (p is null) return;
        if (p.Shape.Length != 1 || p.Shape[0] != n)
            throw new ArgumentException($"{what} has shape {Tensor.ShapeString(p.Shape)} but the normalised dim has size {n} (input {Tensor.ShapeString(input)})");
    }
}
