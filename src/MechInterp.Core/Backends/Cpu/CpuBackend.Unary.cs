using System.Numerics;
using System.Numerics.Tensors;
using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>Elements per parallel block for element-wise kernels.</summary>
    private const long ElementwiseThreshold = 1 << 16;

    /// <inheritdoc />
    public TensorHandle Unary(UnaryOp op, TensorHandle x)
    {
        var h = H(x);
        if (op == UnaryOp.LogicalNot)
        {
            if (h.DType != DType.Bool) throw Unsupported("LogicalNot", h.DType, "it needs a Bool tensor; compare with == 0 first");
            return MapContiguous<byte>(h, DType.Bool, static (s, d) => { for (int i = 0; i < s.Length; i++) d[i] = (byte)(s[i] ^ 1); });
        }
        switch (h.DType)
        {
            case DType.Float32: return MapContiguous<float>(h, DType.Float32, FloatKernel<float>(op));
            case DType.Float64: return MapContiguous<double>(h, DType.Float64, FloatKernel<double>(op));
            case DType.Int64: return MapContiguous<long>(h, h.DType, IntKernel<long>(op, h.DType));
            case DType.Int32: return MapContiguous<int>(h, h.DType, IntKernel<int>(op, h.DType));
            default: throw Unsupported($"Unary {op}", h.DType);
        }
    }

    private delegate void SpanMap<T>(ReadOnlySpan<T> src, Span<T> dst);

    /// <summary>Applies a span kernel over the dense form of <paramref name="x"/>, splitting across cores when large.
    /// A non-contiguous input is first copied and then transformed in place.</summary>
    private static CpuHandle MapContiguous<T>(CpuHandle x, DType outType, SpanMap<T> kernel) where T : unmanaged
    {
        CpuHandle src, dst;
        if (x.IsContiguous) { src = x; dst = CpuHandle.Allocate(outType, (long[])x.ShapeArray.Clone()); }
        else { src = dst = (CpuHandle)Instance.Contiguous(x); }
        long n = x.NumElements;
        StridedPlan.ParallelRange(n, n, (a, b) =>
        {
            var s = src.Span<T>().Slice((int)a, (int)(b - a));
            var d = dst.Span<T>().Slice((int)a, (int)(b - a));
            kernel(s, d);
        }, ElementwiseThreshold);
        return dst;
    }

    private static SpanMap<T> FloatKernel<T>(UnaryOp op) where T : unmanaged, IFloatingPointIeee754<T> => op switch
    {
        UnaryOp.Neg => static (s, d) => TensorPrimitives.Negate(s, d),
        UnaryOp.Abs => static (s, d) => TensorPrimitives.Abs(s, d),
        UnaryOp.Exp => static (s, d) => TensorPrimitives.Exp(s, d),
        UnaryOp.Log => static (s, d) => TensorPrimitives.Log(s, d),
        UnaryOp.Sqrt => static (s, d) => TensorPrimitives.Sqrt(s, d),
        UnaryOp.Rsqrt => static (s, d) => TensorPrimitives.ReciprocalSqrt(s, d),
        UnaryOp.Tanh => static (s, d) => TensorPrimitives.Tanh(s, d),
        UnaryOp.Sigmoid => static (s, d) => TensorPrimitives.Sigmoid(s, d),
        UnaryOp.Relu => static (s, d) => TensorPrimitives.Max(s, T.Zero, d),
        UnaryOp.Gelu => GeluKernel<T>(),
        UnaryOp.GeluTanh => static (s, d) => Activations.GeluTanh(s, d),
        UnaryOp.Silu => static (s, d) => Activations.Silu(s, d),
        UnaryOp.Sign => static (s, d) => Activations.Sign(s, d),
        UnaryOp.Sin => static (s, d) => TensorPrimitives.Sin(s, d),
        UnaryOp.Cos => static (s, d) => TensorPrimitives.Cos(s, d),
        UnaryOp.Square => static (s, d) => TensorPrimitives.Multiply(s, s, d),
        UnaryOp.Reciprocal => static (s, d) => TensorPrimitives.Reciprocal(s, d),
        _ => throw Unsupported($"Unary {op}", typeof(T) == typeof(float) ? DType.Float32 : DType.Float64),
    };

    private static SpanMap<T> GeluKernel<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return (SpanMap<T>)(object)new SpanMap<float>(static (s, d) => Activations.Gelu(s, d));
        return (SpanMap<T>)(object)new SpanMap<double>(static (s, d) => Activations.Gelu(s, d));
    }

    private static SpanMap<T> IntKernel<T>(UnaryOp op, DType dtype) where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T> => op switch
    {
        UnaryOp.Neg => static (s, d) => TensorPrimitives.Negate(s, d),
        UnaryOp.Abs => static (s, d) => TensorPrimitives.Abs(s, d),
        UnaryOp.Relu => static (s, d) => TensorPrimitives.Max(s, T.Zero, d),
        UnaryOp.Sign => static (s, d) => Activations.Sign(s, d),
        UnaryOp.Square => static (s, d) => TensorPrimitives.Multiply(s, s, d),
        _ => throw Unsupported($"Unary {op}", dtype),
    };

    /// <inheritdoc />
    public TensorHandle Clamp(TensorHandle x, double? min, double? max)
    {
        var h = H(x);
        return h.DType switch
        {
            DType.Float32 => MapContiguous<float>(h, h.DType, ClampKernel<float>(min, max)),
            DType.Float64 => MapContiguous<double>(h, h.DType, ClampKernel<double>(min, max)),
            DType.Int64 => MapContiguous<long>(h, h.DType, ClampKernel<long>(min, max)),
            DType.Int32 => MapContiguous<int>(h, h.DType, ClampKernel<int>(min, max)),
            DType.UInt8 => MapContiguous<byte>(h, h.DType, ClampKernel<byte>(min, max)),
            _ => throw Unsupported("Clamp", h.DType),
        };
    }

    private static SpanMap<T> ClampKernel<T>(double? min, double? max) where T : unmanaged, INumber<T>
    {
        T lo = min is { } a ? T.CreateSaturating(a) : default, hi = max is { } b ? T.CreateSaturating(b) : default;
        bool hasLo = min is not null, hasHi = max is not null;
        return (s, d) =>
        {
            if (hasLo && hasHi) { TensorPrimitives.Max(s, lo, d); TensorPrimitives.Min(d, hi, d); }
            else if (hasLo) TensorPrimitives.Max(s, lo, d);
            else if (hasHi) TensorPrimitives.Min(s, hi, d);
            else s.CopyTo(d);
        };
    }
}
