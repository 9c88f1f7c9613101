namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle View(TensorHandle x, long[] shape)
    {
        var h = H(x);
        if (h.IsContiguous) return h.ViewOf(h.Offset, (long[])shape.Clone(), ShapeUtil.ContiguousStrides(shape));
        var strides = ShapeUtil.ViewStrides(h.ShapeArray, h.Strides, shape)
            ?? throw new InvalidOperationException($"View to {Tensor.ShapeString(shape)} needs a contiguous tensor or compatible strides, got a strided view of shape {Tensor.ShapeString(h.ShapeArray)}: make it contiguous first");
        return h.ViewOf(h.Offset, (long[])shape.Clone(), strides);
    }

    /// <inheritdoc />
    public TensorHandle Permute(TensorHandle x, int[] dims)
    {
        var h = H(x);
        var shape = new long[dims.Length];
        var strides = new long[dims.Length];
        for (int i = 0; i < dims.Length; i++) { shape[i] = h.ShapeArray[dims[i]]; strides[i] = h.Strides[dims[i]]; }
        return h.ViewOf(h.Offset, shape, strides);
    }

    /// <inheritdoc />
    public TensorHandle Expand(TensorHandle x, long[] shape)
    {
        var h = H(x);
        if (shape.Length < h.Rank)
            throw new ArgumentException($"cannot expand {Tensor.ShapeString(h.ShapeArray)} to fewer dims {Tensor.ShapeString(shape)}");
        int lead = shape.Length - h.Rank;
        for (int i = 0; i < h.Rank; i++)
            if (h.ShapeArray[i] != 1 && h.ShapeArray[i] != shape[lead + i])
                throw new ArgumentException($"cannot expand {Tensor.ShapeString(h.ShapeArray)} to {Tensor.ShapeString(shape)}: dim {i} is neither 1 nor {shape[lead + i]}");
        return h.ViewOf(h.Offset, (long[])shape.Clone(), StridedPlan.BroadcastStrides(h, shape));
    }

    /// <inheritdoc />
    public TensorHandle Narrow(TensorHandle x, int dim, long start, long length, long step = 1)
    {
        var h = H(x);
        var shape = (long[])h.ShapeArray.Clone();
        var strides = (long[])h.Strides.Clone();
        long offset = h.Offset + (length > 0 ? start * h.Strides[dim] : 0);
        shape[dim] = length;
        strides[dim] = h.Strides[dim] * step;
        return h.ViewOf(offset, shape, strides);
    }

    /// <inheritdoc />
    public bool IsContiguous(TensorHandle x) => H(x).IsContiguous;

    /// <inheritdoc />
    public TensorHandle Contiguous(TensorHandle x)
    {
        var h = H(x);
        var result = CpuHandle.Allocate(h.DType, (long[])h.ShapeArray.Clone());
        CopyInto(h, result);
        return result;
    }

    /// <inheritdoc />
    public void MarkWeight(TensorHandle x)
    {
        var h = H(x);
        if (h.DType == DType.Float32) h.Storage.MarkWeight();
    }

    /// <inheritdoc />
    public void PrepackWeight(TensorHandle x)
    {
        MarkWeight(x);
        PrepackB(H(x));
    }

    /// <inheritdoc />
    public void CopyInPlace(TensorHandle destination, TensorHandle source)
    {
        CpuHandle dst = H(destination), src = H(source);
        dst.Storage.MarkWritten();
        if (dst.IsContiguous) { CopyInto(src, dst); return; }
        switch (src.DType.ElementSize())
        {
            case 1: CopyStrided<byte>(src, dst); break;
            case 2: CopyStrided<ushort>(src, dst); break;
            case 4: CopyStrided<int>(src, dst); break;
            default: CopyStrided<long>(src, dst); break;
        }
    }

    /// <summary>Element-wise copy between any two layouts of one shape (the destination not contiguous).</summary>
    private static void CopyStrided<T>(CpuHandle src, CpuHandle dst) where T : unmanaged
    {
        var plan = StridedPlan.Create(src.ShapeArray, (dst.Offset, dst.Strides), (src.Offset, src.Strides));
        long ds = plan.InnerStride(0), ss = plan.InnerStride(1);
        var sSt = src.Storage; var dSt = dst.Storage;
        plan.Run((offs, count) =>
        {
            var sp = sSt.Span<T>(); var dp = dSt.Span<T>();
            long o0 = offs[0], o1 = offs[1];
            if (ss == 1 && ds == 1) sp.Slice((int)o1, count).CopyTo(dp.Slice((int)o0, count));
            else for (int i = 0; i < count; i++) dp[(int)(o0 + i * ds)] = sp[(int)(o1 + i * ss)];
        }, 1 << 18);
    }

    /// <summary>Copies the elements of <paramref name="src"/> (any layout) into the contiguous <paramref name="dst"/>.</summary>
    private static void CopyInto(CpuHandle src, CpuHandle dst)
    {
        switch (src.DType.ElementSize())
        {
            case 1: CopyInto<byte>(src, dst); break;
            case 2: CopyInto<ushort>(src, dst); break;
            case 4: CopyInto<int>(src, dst); break;
            default: CopyInto<long>(src, dst); break;
        }
    }

    private static void CopyInto<T>(CpuHandle src, CpuHandle dst) where T : unmanaged
    {
        if (src.IsContiguous)
        {
            var s = src.Storage; var d = dst.Storage; long n = src.NumElements, so = src.Offset, dO = dst.Offset;
            StridedPlan.ParallelRange(n, n, (a, b) => s.Span<T>().Slice((int)(so + a), (int)(b - a)).CopyTo(d.Span<T>().Slice((int)(dO + a))), 1 << 18);
            return;
        }
        if (TryTransposeCopy<T>(src, dst)) return;
        var plan = StridedPlan.Create(src.ShapeArray, (dst.Offset, ShapeUtil.ContiguousStrides(src.ShapeArray)), (src.Offset, src.Strides));
        long ds = plan.InnerStride(0), ss = plan.InnerStride(1);
        var sSt = src.Storage; var dSt = dst.Storage;
        plan.Run((offs, count) =>
        {
            var sp = sSt.Span<T>(); var dp = dSt.Span<T>();
            int o0 = (int)offs[0]; long o1 = offs[1];
            if (ss == 1) sp.Slice((int)o1, count).CopyTo(dp.Slice(o0, count));
            else if (ss == 0) dp.Slice(o0, count).Fill(sp[(int)o1]);
            else for (int i = 0; i < count; i++) dp[o0 + i] = sp[(int)(o1 + i * ss)];
        }, 1 << 18);
    }

    /// <summary>Blocked copy for the common "last two dims transposed" layout, which a row-wise gather handles badly.</summary>
    private static bool TryTransposeCopy<T>(CpuHandle src, CpuHandle dst) where T : unmanaged
    {
        int r = src.Rank;
        if (r < 2 || src.Strides[r - 2] != 1 || src.ShapeArray[r - 1] < 16 || src.ShapeArray[r - 2] < 16) return false;
        long rows = src.ShapeArray[r - 2], cols = src.ShapeArray[r - 1], colStride = src.Strides[r - 1];
        long batch = src.NumElements / Math.Max(1, rows * cols);
        var outerShape = src.ShapeArray[..(r - 2)];
        var outerStrides = src.Strides[..(r - 2)];
        var sSt = src.Storage; var dSt = dst.Storage;
        long so = src.Offset, dO = dst.Offset;
        const int B = 32;
        long rowBlocks = (rows + B - 1) / B;
        StridedPlan.ParallelRange(batch * rowBlocks, src.NumElements, (start, end) =>
        {
            var sp = sSt.Span<T>(); var dp = dSt.Span<T>();
            for (long job = start; job < end; job++)
            {
                long bIdx = job / rowBlocks, i0 = job % rowBlocks * B;
                long sBase = so, rem = bIdx;
                for (int d = outerShape.Length - 1; d >= 0; d--) { sBase += rem % outerShape[d] * outerStrides[d]; rem /= outerShape[d]; }
                long dBase = dO + bIdx * rows * cols;
                long i1 = Math.Min(rows, i0 + B);
                for (long j0 = 0; j0 < cols; j0 += B)
                {
                    long j1 = Math.Min(cols, j0 + B);
                    for (long i = i0; i < i1; i++)
                        for (long j = j0; j < j1; j++)
                            dp[(int)(dBase + i * cols + j)] = sp[(int)(sBase + i + j * colStride)];
                }
            }
        }, 1 << 16);
        return true;
    }
}
