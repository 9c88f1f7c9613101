using System.Numerics;
using System.Numerics.Tensors;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>Columns per block when reducing over a non-last dim (the accumulator stays in L1).</summary>
    private const int ColumnBlock = 2048;

    /// <inheritdoc />
    public TensorHandle Reduce(ReduceOp op, TensorHandle x, int dim, bool keepDim)
    {
        var h = H(x);
        var dtype = h.DType;
        if (dtype is DType.Float16 or DType.BFloat16) throw Unsupported($"Reduce {op}", dtype);
        if (op is ReduceOp.Mean or ReduceOp.LogSumExp && !dtype.IsFloatingPoint())
            throw Unsupported($"Reduce {op}", dtype, "convert to a float dtype first with .To(DType.Float32)");
        if (op == ReduceOp.Sum && dtype is DType.Bool or DType.UInt8 or DType.Int32)
        {
            using var wide = (CpuHandle)Cast(h, DType.Int64);
            return Reduce(op, wide, dim, keepDim);
        }
        if (op == ReduceOp.LogSumExp && dim != h.Rank - 1)
        {
            var perm = Enumerable.Range(0, h.Rank).Where(i => i != dim).Append(dim).ToArray();
            using var moved = (CpuHandle)Permute(h, perm);
            var r = (CpuHandle)Reduce(op, moved, h.Rank - 1, false);
            if (!keepDim) return r;
            using (r) return View(r, KeptShape(h.ShapeArray, dim, true));
        }
        var dense = Dense(h);
        try
        {
            var outShape = KeptShape(h.ShapeArray, dim, keepDim);
            var (outer, size, inner) = Split3(h.ShapeArray, dim);
            if (size == 0 && op is not (ReduceOp.Sum or ReduceOp.Mean))
                throw new ArgumentException($"Reduce {op} over dim {dim} of size 0 has no identity: the tensor {Tensor.ShapeString(h.ShapeArray)} is empty there");
            var outType = op is ReduceOp.ArgMax or ReduceOp.ArgMin ? DType.Int64 : dtype;
            var result = CpuHandle.Allocate(outType, outShape);
            switch (dtype)
            {
                case DType.Float32: ReduceTyped<float>(op, dense, result, outer, size, inner); break;
                case DType.Float64: ReduceTyped<double>(op, dense, result, outer, size, inner); break;
                case DType.Int64: ReduceTyped<long>(op, dense, result, outer, size, inner); break;
                case DType.Int32: ReduceTyped<int>(op, dense, result, outer, size, inner); break;
                default: ReduceTyped<byte>(op, dense, result, outer, size, inner); break; // UInt8, Bool (max = any, min = all)
            }
            return result;
        }
        finally { Release(dense, h); }
    }

    private static long[] KeptShape(long[] shape, int dim, bool keepDim)
    {
        var list = shape.ToList();
        if (keepDim) list[dim] = 1; else list.RemoveAt(dim);
        return [.. list];
    }

    private static void ReduceTyped<T>(ReduceOp op, CpuHandle x, CpuHandle result, long outer, long size, long inner) where T : unmanaged, INumber<T>
    {
        CpuStorage xs = x.Storage, rs = result.Storage;
        long xo = x.Offset;
        int R = (int)size, I = (int)inner;
        if (inner == 1)
        {
            StridedPlan.ParallelRange(outer, outer * size, (start, end) =>
            {
                var src = xs.Span<T>();
                for (long o = start; o < end; o++)
                {
                    var row = src.Slice((int)(xo + o * size), R);
                    switch (op)
                    {
                        case ReduceOp.ArgMax: rs.Span<long>()[(int)o] = ArgExtreme(row, true); break;
                        case ReduceOp.ArgMin: rs.Span<long>()[(int)o] = ArgExtreme(row, false); break;
                        default: rs.Span<T>()[(int)o] = ReduceRow(op, row); break;
                    }
                }
            });
            return;
        }
        long blocks = (inner + ColumnBlock - 1) / ColumnBlock;
        StridedPlan.ParallelRange(outer * blocks, outer * size * inner, (start, end) =>
        {
            var src = xs.Span<T>();
            for (long job = start; job < end; job++)
            {
                long o = job / blocks;
                int c0 = (int)(job % blocks * ColumnBlock), w = Math.Min(ColumnBlock, I - c0);
                long baseIn = xo + o * size * inner + c0;
                long baseOut = o * inner + c0;
                if (op is ReduceOp.ArgMax or ReduceOp.ArgMin) { ArgColumns(src, baseIn, R, I, w, rs.Span<long>().Slice((int)baseOut, w), op == ReduceOp.ArgMax); continue; }
                var acc = rs.Span<T>().Slice((int)baseOut, w);
                if (R == 0) { acc.Fill(op == ReduceOp.Mean ? T.CreateTruncating(double.NaN) : T.Zero); continue; }
                src.Slice((int)baseIn, w).CopyTo(acc);
                for (int r = 1; r < R; r++)
                {
                    var row = src.Slice((int)(baseIn + (long)r * I), w);
                    switch (op)
                    {
                        case ReduceOp.Max: TensorPrimitives.Max(acc, row, acc); break;
                        case ReduceOp.Min: TensorPrimitives.Min(acc, row, acc); break;
                        default: TensorPrimitives.Add(acc, row, acc); break;
                    }
                }
                if (op == ReduceOp.Mean) TensorPrimitives.Divide(acc, T.CreateTruncating(R), acc);
            }
        });
    }

    private static T ReduceRow<T>(ReduceOp op, ReadOnlySpan<T> row) where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case ReduceOp.Sum: return TensorPrimitives.Sum(row);
            case ReduceOp.Mean: return row.Length == 0 ? T.CreateTruncating(double.NaN) : TensorPrimitives.Sum(row) / T.CreateTruncating(row.Length);
            case ReduceOp.Max: return TensorPrimitives.Max(row);
            case ReduceOp.Min: return TensorPrimitives.Min(row);
            default: return LogSumExpRow(row);
        }
    }

    private static T LogSumExpRow<T>(ReadOnlySpan<T> row) where T : unmanaged, INumber<T>
    {
        double max = double.CreateTruncating(TensorPrimitives.Max(row));
        if (double.IsInfinity(max) || double.IsNaN(max)) return T.CreateTruncating(max);
        Span<double> buf = stackalloc double[256];
        double sum = 0;
        for (int s = 0; s < row.Length; s += buf.Length)
        {
            int n = Math.Min(buf.Length, row.Length - s);
            var b = buf[..n];
            for (int i = 0; i < n; i++) b[i] = double.CreateTruncating(row[s + i]) - max;
            TensorPrimitives.Exp(b, b);
            sum += TensorPrimitives.Sum<double>(b);
        }
        return T.CreateTruncating(max + Math.Log(sum));
    }

    /// <summary>Index of the first maximum (or minimum); a NaN counts as the extreme (like torch).</summary>
    private static long ArgExtreme<T>(ReadOnlySpan<T> row, bool max) where T : unmanaged, INumber<T>
    {
        if (max) return TensorPrimitives.IndexOfMax(row);
        return TensorPrimitives.IndexOfMin(row);
    }

    private static void ArgColumns<T>(ReadOnlySpan<T> src, long baseIn, int rows, int stride, int w, Span<long> idx, bool max) where T : unmanaged, INumber<T>
    {
        Span<T> best = w <= 512 ? stackalloc T[w] : new T[w];
        src.Slice((int)baseIn, w).CopyTo(best);
        idx.Clear();
        for (int r = 1; r < rows; r++)
        {
            var row = src.Slice((int)(baseIn + (long)r * stride), w);
            for (int j = 0; j < w; j++)
            {
                T v = row[j], b = best[j];
                if (T.IsNaN(b)) continue;
                if (T.IsNaN(v) || (max ? v > b : v < b)) { best[j] = v; idx[j] = r; }
            }
        }
    }

    /// <inheritdoc />
    public TensorHandle CumSum(TensorHandle x, int dim)
    {
        var h = H(x);
        if (h.DType is DType.Bool or DType.UInt8 or DType.Int32)
        {
            using var wide = (CpuHandle)Cast(h, DType.Int64);
            return CumSum(wide, dim);
        }
        var dense = Dense(h);
        try
        {
            var result = CpuHandle.Allocate(h.DType, (long[])h.ShapeArray.Clone());
            var (outer, size, inner) = Split3(h.ShapeArray, dim);
            switch (h.DType)
            {
                case DType.Float32: CumSumTyped<float>(dense, result, outer, size, inner); break;
                case DType.Float64: CumSumTyped<double>(dense, result, outer, size, inner); break;
                case DType.Int64: CumSumTyped<long>(dense, result, outer, size, inner); break;
                default: throw Unsupported("CumSum", h.DType);
            }
            return result;
        }
        finally { Release(dense, h); }
    }

    private static void CumSumTyped<T>(CpuHandle x, CpuHandle result, long outer, long size, long inner) where T : unmanaged, INumber<T>
    {
        CpuStorage xs = x.Storage, rs = result.Storage;
        long xo = x.Offset;
        int I = (int)inner;
        StridedPlan.ParallelRange(outer, outer * size * inner, (start, end) =>
        {
            var src = xs.Span<T>(); var dst = rs.Span<T>();
            for (long o = start; o < end; o++)
            {
                long b = o * size * inner;
                if (inner == 1)
                {
                    T acc = T.Zero;
                    for (long r = 0; r < size; r++) { acc += src[(int)(xo + b + r)]; dst[(int)(b + r)] = acc; }
                    continue;
                }
                if (size == 0) continue;
                src.Slice((int)(xo + b), I).CopyTo(dst.Slice((int)b, I));
                for (long r = 1; r < size; r++)
                    TensorPrimitives.Add(dst.Slice((int)(b + (r - 1) * inner), I), src.Slice((int)(xo + b + r * inner), I), dst.Slice((int)(b + r * inner), I));
            }
        });
    }
}
