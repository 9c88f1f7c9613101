using System.Numerics;
using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

/// <summary>Kernels for passes that record no gradient: fused ones for hooks that only observe (a hooked intermediate
/// and what follows it in one pass: attention scores with their pattern, a norm's output with its scale) and in-place
/// ones on engine-made outputs (a GEMM product's bias).</summary>
internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle CausalMaskSoftmaxInPlace(TensorHandle x, double scale, long offset)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64) || h.Rank < 2) throw Unsupported("CausalMaskSoftmaxInPlace", h.DType);
        if (!h.IsContiguous) throw new ArgumentException("CausalMaskSoftmaxInPlace needs contiguous scores", nameof(x));
        long q = h.ShapeArray[^2], cols = h.ShapeArray[^1];
        long rows = cols == 0 ? 0 : h.NumElements / cols;
        var dst = CpuHandle.Allocate(h.DType, (long[])h.ShapeArray.Clone());
        h.Storage.MarkWritten();
        bool single = h.DType == DType.Float32;
        StridedPlan.ParallelRange(rows, rows * cols * 8, (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                int visible = (int)Math.Clamp(r % q + offset + 1, 0, cols);
                if (single) MaskSoftmaxRow(h.Span<float>().Slice((int)(r * cols), (int)cols), dst.Span<float>().Slice((int)(r * cols), (int)cols), (float)scale, visible);
                else MaskSoftmaxRow(h.Span<double>().Slice((int)(r * cols), (int)cols), dst.Span<double>().Slice((int)(r * cols), (int)cols), scale, visible);
            }
        });
        return dst;
    }

    private static void MaskSoftmaxRow<T>(Span<T> scores, Span<T> pattern, T scale, int visible) where T : unmanaged, IFloatingPointIeee754<T>
    {
        MaskRow<T>(scores, scores, scale, visible, T.NegativeInfinity);
        if (typeof(T) == typeof(float))
            Kernels.Softmax.ScaledPrefixRow(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(scores), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(pattern), 1f, visible);
        else
            Kernels.Softmax.ScaledPrefixRow(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(scores), System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(pattern), 1.0, visible);
    }

    /// <inheritdoc />
    public (TensorHandle Normalized, TensorHandle Scale) NormalizeWithScale(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps, bool rms)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64) || h.Rank < 1) throw Unsupported("NormalizeWithScale", h.DType);
        if (rms && (weight is not null || bias is not null)) throw new ArgumentException("NormalizeWithScale for RMS returns the normalized input before any weight: pass no weight or bias");
        var src = Dense(h);
        var w = weight is null ? null : Dense(H(weight));
        var b = bias is null ? null : Dense(H(bias));
        try
        {
            var dst = CpuHandle.Allocate(h.DType, (long[])h.ShapeArray.Clone());
            long[] scaleShape = (long[])h.ShapeArray.Clone();
            scaleShape[^1] = 1;
            var scales = CpuHandle.Allocate(h.DType, scaleShape);
            long cols = h.ShapeArray[^1];
            long rows = cols == 0 ? 0 : h.NumElements / cols;
            bool single = h.DType == DType.Float32;
            StridedPlan.ParallelRange(rows, rows * cols * 4, (start, end) =>
            {
                for (long r = start; r < end; r++)
                {
                    if (single) scales.Span<float>()[(int)r] = NormRow(src.Span<float>().Slice((int)(r * cols), (int)cols), dst.Span<float>().Slice((int)(r * cols), (int)cols), w is null ? default : w.Span<float>(), b is null ? default : b.Span<float>(), (float)eps, rms);
                    else scales.Span<double>()[(int)r] = NormRow(src.Span<double>().Slice((int)(r * cols), (int)cols), dst.Span<double>().Slice((int)(r * cols), (int)cols), w is null ? default : w.Span<double>(), b is null ? default : b.Span<double>(), eps, rms);
                }
            });
            return (dst, scales);
        }
        finally
        {
            Release(src, h);
            if (w is not null) Release(w, H(weight!));
            if (b is not null) Release(b, H(bias!));
        }
    }

    private static T NormRow<T>(ReadOnlySpan<T> x, Span<T> y, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps, bool rms) where T : unmanaged, IFloatingPointIeee754<T> =>
        rms ? Norms.RmsNormScale(x, eps, y) : Norms.LayerNormScale(x, w, b, eps, y);

    /// <inheritdoc />
    public void AddBiasInPlace(TensorHandle x, TensorHandle bias)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64) || h.Rank < 1) throw Unsupported("AddBiasInPlace", h.DType);
        if (!h.IsContiguous) throw new ArgumentException("AddBiasInPlace needs a contiguous tensor", nameof(x));
        var b = Dense(H(bias));
        try
        {
            long cols = h.ShapeArray[^1];
            if (b.NumElements != cols || b.DType != h.DType) throw new ArgumentException($"AddBiasInPlace: bias of {b.NumElements} {b.DType} for rows of {cols} {h.DType}", nameof(bias));
            long rows = cols == 0 ? 0 : h.NumElements / cols;
            bool single = h.DType == DType.Float32;
            h.Storage.MarkWritten();
            StridedPlan.ParallelRange(rows, rows * cols, (start, end) =>
            {
                for (long r = start; r < end; r++)
                {
                    if (single) AddRow(h.Span<float>().Slice((int)(r * cols), (int)cols), b.Span<float>());
                    else AddRow(h.Span<double>().Slice((int)(r * cols), (int)cols), b.Span<double>());
                }
            });
        }
        finally { Release(b, H(bias)); }
    }

    private static void AddRow<T>(Span<T> row, ReadOnlySpan<T> bias) where T : unmanaged, IFloatingPointIeee754<T> =>
        System.Numerics.Tensors.TensorPrimitives.Add(row, bias, row);
}
