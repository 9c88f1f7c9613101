using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle Softmax(TensorHandle x, int dim, bool log)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64)) throw Unsupported(log ? "LogSoftmax" : "Softmax", h.DType);
        if (dim != h.Rank - 1 && h.Rank > 0)
        {
            // move the dim last, work on rows, move it back
            var perm = Enumerable.Range(0, h.Rank).Where(i => i != dim).Append(dim).ToArray();
            var inverse = new int[h.Rank];
            for (int i = 0; i < h.Rank; i++) inverse[perm[i]] = i;
            using var moved = (CpuHandle)Permute(h, perm);
            using var r = (CpuHandle)Softmax(moved, h.Rank - 1, log);
            using var back = (CpuHandle)Permute(r, inverse);
            return Contiguous(back);
        }
        if (h.DType == DType.Float32) return RowWise<float>(h, (s, d) => Kernels.Softmax.Row(s, d, log));
        return RowWise<double>(h, (s, d) => Kernels.Softmax.Row(s, d, log));
    }

    /// <inheritdoc />
    public TensorHandle CausalSoftmax(TensorHandle x, double scale, long offset)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64) || h.Rank < 2) throw Unsupported("CausalSoftmax", h.DType);
        long q = h.ShapeArray[^2];
        var src = Dense(h);
        try
        {
            var dst = CpuHandle.Allocate(h.DType, (long[])h.ShapeArray.Clone());
            long cols = h.ShapeArray[^1];
            long rows = cols == 0 ? 0 : h.NumElements / cols;
            bool single = h.DType == DType.Float32;
            StridedPlan.ParallelRange(rows, rows * cols * 8, (start, end) =>
            {
                for (long r = start; r < end; r++)
                {
                    long visible = Math.Clamp(r % q + offset + 1, 0, cols);
                    if (single)
                        Kernels.Softmax.ScaledPrefixRow(src.Span<float>().Slice((int)(r * cols), (int)cols),
                            dst.Span<float>().Slice((int)(r * cols), (int)cols), (float)scale, (int)visible);
                    else
                        Kernels.Softmax.ScaledPrefixRow(src.Span<double>().Slice((int)(r * cols), (int)cols),
                            dst.Span<double>().Slice((int)(r * cols), (int)cols), scale, (int)visible);
                }
            });
            return dst;
        }
        finally { Release(src, h); }
    }

    /// <inheritdoc />
    public TensorHandle CausalMask(TensorHandle x, double scale, long offset, double fill)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64) || h.Rank < 2) throw Unsupported("CausalMask", h.DType);
        var src = Dense(h);
        try
        {
            var dst = CpuHandle.Allocate(h.DType, (long[])h.ShapeArray.Clone());
            CausalMaskRows(src, dst, scale, offset, fill);
            return dst;
        }
        finally { Release(src, h); }
    }

    /// <inheritdoc />
    public void CausalMaskInPlace(TensorHandle x, double scale, long offset, double fill)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64) || h.Rank < 2) throw Unsupported("CausalMaskInPlace", h.DType);
        if (!h.IsContiguous) throw new ArgumentException("CausalMaskInPlace needs contiguous scores", nameof(x));
        h.Storage.MarkWritten();
        CausalMaskRows(h, h, scale, offset, fill);
    }

    /// <summary>Row r of [..., q, kv]: dst = src * scale on the keys query r % q sees, fill on the rest (src may be dst).</summary>
    private static void CausalMaskRows(CpuHandle src, CpuHandle dst, double scale, long offset, double fill)
    {
        long q = src.ShapeArray[^2], cols = src.ShapeArray[^1];
        long rows = cols == 0 ? 0 : src.NumElements / cols;
        bool single = src.DType == DType.Float32;
        StridedPlan.ParallelRange(rows, rows * cols, (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                int visible = (int)Math.Clamp(r % q + offset + 1, 0, cols);
                if (single) MaskRow(src.Span<float>().Slice((int)(r * cols), (int)cols), dst.Span<float>().Slice((int)(r * cols), (int)cols), (float)scale, visible, (float)fill);
                else MaskRow(src.Span<double>().Slice((int)(r * cols), (int)cols), dst.Span<double>().Slice((int)(r * cols), (int)cols), scale, visible, fill);
            }
        });
    }

    /// <summary>One row of a causal mask: the first <paramref name="visible"/> entries scaled, the rest <paramref name="fill"/>.</summary>
    private static void MaskRow<T>(ReadOnlySpan<T> src, Span<T> dst, T scale, int visible, T fill) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        System.Numerics.Tensors.TensorPrimitives.Multiply(src[..visible], scale, dst[..visible]);
        dst[visible..].Fill(fill);
    }

    /// <inheritdoc />
    public TensorHandle LayerNorm(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64)) throw Unsupported("LayerNorm", h.DType);
        var w = weight is null ? null : Dense(H(weight));
        var b = bias is null ? null : Dense(H(bias));
        try
        {
            if (h.DType == DType.Float32)
                return RowWise<float>(h, (s, d) => Norms.LayerNorm(s, w is null ? default : w.Span<float>(), b is null ? default : b.Span<float>(), (float)eps, d));
            return RowWise<double>(h, (s, d) => Norms.LayerNorm(s, w is null ? default : w.Span<double>(), b is null ? default : b.Span<double>(), eps, d));
        }
        finally
        {
            if (w is not null) Release(w, H(weight!));
            if (b is not null) Release(b, H(bias!));
        }
    }

    /// <inheritdoc />
    public TensorHandle RmsNorm(TensorHandle x, TensorHandle? weight, double eps)
    {
        var h = H(x);
        if (h.DType is not (DType.Float32 or DType.Float64)) throw Unsupported("RmsNorm", h.DType);
        var w = weight is null ? null : Dense(H(weight));
        try
        {
            if (h.DType == DType.Float32)
                return RowWise<float>(h, (s, d) => Norms.RmsNorm(s, w is null ? default : w.Span<float>(), (float)eps, d));
            return RowWise<double>(h, (s, d) => Norms.RmsNorm(s, w is null ? default : w.Span<double>(), eps, d));
        }
        finally
        {
            if (w is not null) Release(w, H(weight!));
        }
    }

    private delegate void RowKernel<T>(ReadOnlySpan<T> src, Span<T> dst);

    /// <summary>Applies a kernel to every last-dim row of <paramref name="x"/>, in parallel over row blocks when large.</summary>
    private static CpuHandle RowWise<T>(CpuHandle x, RowKernel<T> kernel) where T : unmanaged
    {
        var src = Dense(x);
        try
        {
            var dst = CpuHandle.Allocate(x.DType, (long[])x.ShapeArray.Clone());
            long cols = x.Rank == 0 ? 1 : x.ShapeArray[^1];
            long rows = cols == 0 ? 0 : x.NumElements / cols;
            StridedPlan.ParallelRange(rows, rows * cols * 4, (start, end) =>
            {
                var s = src.Span<T>(); var d = dst.Span<T>();
                for (long r = start; r < end; r++)
                    kernel(s.Slice((int)(r * cols), (int)cols), d.Slice((int)(r * cols), (int)cols));
            });
            return dst;
        }
        finally { Release(src, x); }
    }
}
