using System.Numerics;
using System.Numerics.Tensors;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle IndexSelect(TensorHandle x, int dim, TensorHandle index)
    {
        var h = H(x);
        var idx = IndexArray(H(index), "IndexSelect");
        var shape = (long[])h.ShapeArray.Clone();
        shape[dim] = idx.Length;
        var src = Dense(h);
        try
        {
            var result = CpuHandle.Allocate(h.DType, shape);
            var (outer, size, inner) = Split3(h.ShapeArray, dim);
            CheckIndices(idx, size, "IndexSelect", dim);
            int es = h.DType.ElementSize();
            long k = idx.Length;
            StridedPlan.ParallelRange(outer * k, outer * k * inner, (start, end) =>
            {
                for (long job = start; job < end; job++)
                {
                    long o = job / k, j = job % k;
                    CopyBlock(src, src.Offset + (o * size + idx[j]) * inner, result, (o * k + j) * inner, inner, es);
                }
            });
            return result;
        }
        finally { Release(src, h); }
    }

    /// <summary>Copies <paramref name="count"/> elements between dense storages, by element size.</summary>
    private static void CopyBlock(CpuHandle src, long srcOffset, CpuHandle dst, long dstOffset, long count, int elementSize)
    {
        int so = (int)srcOffset, d = (int)dstOffset, n = (int)count;
        switch (elementSize)
        {
            case 1: src.Storage.Span<byte>().Slice(so, n).CopyTo(dst.Storage.Span<byte>().Slice(d, n)); break;
            case 2: src.Storage.Span<ushort>().Slice(so, n).CopyTo(dst.Storage.Span<ushort>().Slice(d, n)); break;
            case 4: src.Storage.Span<int>().Slice(so, n).CopyTo(dst.Storage.Span<int>().Slice(d, n)); break;
            default: src.Storage.Span<long>().Slice(so, n).CopyTo(dst.Storage.Span<long>().Slice(d, n)); break;
        }
    }

    private static long[] IndexArray(CpuHandle index, string op)
    {
        if (index.DType != DType.Int64)
            throw new ArgumentException($"{op}: the index must be an Int64 tensor, got {index.DType}; convert with .To(DType.Int64)");
        return (long[])Instance.ToArray(index);
    }

    private static void CheckIndices(long[] idx, long size, string op, int dim)
    {
        foreach (var i in idx)
            if (i < 0 || i >= size)
                throw new IndexOutOfRangeException($"{op}: index {i} is out of range for dim {dim} of size {size} (valid 0..{size - 1})");
    }

    /// <inheritdoc />
    public TensorHandle Gather(TensorHandle x, int dim, TensorHandle index)
    {
        var h = H(x);
        var ih = H(index);
        var idx = IndexArray(ih, "Gather");
        var src = Dense(h);
        try
        {
            CheckIndices(idx, h.ShapeArray[dim], "Gather", dim);
            var result = CpuHandle.Allocate(h.DType, (long[])ih.ShapeArray.Clone());
            var xStrides = ShapeUtil.ContiguousStrides(h.ShapeArray);
            switch (h.DType.ElementSize())
            {
                case 1: GatherTyped<byte>(src, xStrides, idx, ih.ShapeArray, dim, result); break;
                case 2: GatherTyped<ushort>(src, xStrides, idx, ih.ShapeArray, dim, result); break;
                case 4: GatherTyped<int>(src, xStrides, idx, ih.ShapeArray, dim, result); break;
                default: GatherTyped<long>(src, xStrides, idx, ih.ShapeArray, dim, result); break;
            }
            return result;
        }
        finally { Release(src, h); }
    }

    /// <summary>Visits every position of <paramref name="shape"/> in row-major order with the offset it has in a tensor
    /// of <paramref name="strides"/> where the coordinate along <paramref name="dim"/> is left out.</summary>
    private static void ForEachOffsetExceptDim(long[] shape, long[] strides, int dim, Action<long, long> visit)
    {
        long n = ShapeUtil.NumElements(shape);
        var pos = new long[shape.Length];
        long off = 0;
        for (long e = 0; e < n; e++)
        {
            visit(e, off);
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                pos[d]++;
                if (d != dim) off += strides[d];
                if (pos[d] < shape[d]) break;
                if (d != dim) off -= strides[d] * shape[d];
                pos[d] = 0;
            }
        }
    }

    private static void GatherTyped<T>(CpuHandle src, long[] xStrides, long[] idx, long[] shape, int dim, CpuHandle result) where T : unmanaged
    {
        var s = src.Storage; var r = result.Storage;
        long baseOff = src.Offset, sd = xStrides[dim];
        ForEachOffsetExceptDim(shape, xStrides, dim, (e, off) => r.Span<T>()[(int)e] = s.Span<T>()[(int)(baseOff + off + idx[e] * sd)]);
    }

    /// <inheritdoc />
    public TensorHandle ScatterAdd(TensorHandle x, int dim, TensorHandle index, TensorHandle src)
    {
        var h = H(x);
        var ih = H(index);
        var idx = IndexArray(ih, "ScatterAdd");
        CheckIndices(idx, h.ShapeArray[dim], "ScatterAdd", dim);
        var source = SourceFor(H(src), ih.ShapeArray);
        var result = (CpuHandle)Contiguous(h);
        using var _ = source;
        var rStrides = ShapeUtil.ContiguousStrides(h.ShapeArray);
        switch (h.DType)
        {
            case DType.Float32: ScatterAddTyped<float>(result, rStrides, idx, ih.ShapeArray, dim, source); break;
            case DType.Float64: ScatterAddTyped<double>(result, rStrides, idx, ih.ShapeArray, dim, source); break;
            case DType.Int64: ScatterAddTyped<long>(result, rStrides, idx, ih.ShapeArray, dim, source); break;
            case DType.Int32: ScatterAddTyped<int>(result, rStrides, idx, ih.ShapeArray, dim, source); break;
            case DType.UInt8: ScatterAddTyped<byte>(result, rStrides, idx, ih.ShapeArray, dim, source); break;
            default: result.Dispose(); throw Unsupported("ScatterAdd", h.DType);
        }
        return result;
    }

    /// <summary>The leading <paramref name="shape"/> block of <paramref name="src"/> as a dense tensor (torch allows a larger src).</summary>
    private static CpuHandle SourceFor(CpuHandle src, long[] shape)
    {
        if (src.Rank != shape.Length)
            throw new ArgumentException($"ScatterAdd: src rank {src.Rank} differs from index rank {shape.Length}");
        for (int d = 0; d < shape.Length; d++)
            if (src.ShapeArray[d] < shape[d])
                throw new ArgumentException($"ScatterAdd: src {Tensor.ShapeString(src.ShapeArray)} is smaller than index {Tensor.ShapeString(shape)} in dim {d}");
        using var view = src.ViewOf(src.Offset, (long[])shape.Clone(), src.Strides);
        return (CpuHandle)Instance.Contiguous(view);
    }

    private static void ScatterAddTyped<T>(CpuHandle result, long[] rStrides, long[] idx, long[] shape, int dim, CpuHandle source) where T : unmanaged, INumber<T>
    {
        var r = result.Storage; var s = source.Storage;
        long sd = rStrides[dim];
        ForEachOffsetExceptDim(shape, rStrides, dim, (e, off) => r.Span<T>()[(int)(off + idx[e] * sd)] += s.Span<T>()[(int)e]);
    }

    /// <inheritdoc />
    public TensorHandle IndexAdd(TensorHandle x, int dim, TensorHandle index, TensorHandle src)
    {
        var h = H(x);
        var idx = IndexArray(H(index), "IndexAdd");
        var (outer, size, inner) = Split3(h.ShapeArray, dim);
        CheckIndices(idx, size, "IndexAdd", dim);
        var result = (CpuHandle)Contiguous(h);
        var source = Dense(H(src));
        try
        {
            switch (h.DType)
            {
                case DType.Float32: IndexAddTyped<float>(result, source, idx, outer, size, inner); break;
                case DType.Float64: IndexAddTyped<double>(result, source, idx, outer, size, inner); break;
                case DType.Int64: IndexAddTyped<long>(result, source, idx, outer, size, inner); break;
                case DType.Int32: IndexAddTyped<int>(result, source, idx, outer, size, inner); break;
                case DType.UInt8: IndexAddTyped<byte>(result, source, idx, outer, size, inner); break;
                default: result.Dispose(); throw Unsupported("IndexAdd", h.DType);
            }
            return result;
        }
        finally { Release(source, H(src)); }
    }

    private static void IndexAddTyped<T>(CpuHandle result, CpuHandle source, long[] idx, long outer, long size, long inner) where T : unmanaged, INumber<T>
    {
        long k = idx.Length, so = source.Offset;
        int n = (int)inner;
        // parallel over outer only: two source slices may add into the same destination slice
        StridedPlan.ParallelRange(outer, outer * k * inner, (start, end) =>
        {
            var d = result.Span<T>(); var s = source.Storage.Span<T>();
            for (long o = start; o < end; o++)
                for (long j = 0; j < k; j++)
                {
                    var dst = d.Slice((int)((o * size + idx[j]) * inner), n);
                    TensorPrimitives.Add(dst, s.Slice((int)(so + (o * k + j) * inner), n), dst);
                }
        });
    }

    /// <inheritdoc />
    public TensorHandle Concat(TensorHandle[] xs, int dim)
    {
        var hs = xs.Select(H).ToArray();
        var shape = (long[])hs[0].ShapeArray.Clone();
        shape[dim] = hs.Sum(h => h.ShapeArray[dim]);
        var result = CpuHandle.Allocate(hs[0].DType, shape);
        var (outer, total, inner) = Split3(shape, dim);
        int es = hs[0].DType.ElementSize();
        long at = 0;
        foreach (var h in hs)
        {
            if (h.DType != hs[0].DType) { result.Dispose(); throw new ArgumentException($"Concat: dtypes differ ({hs[0].DType} and {h.DType}); convert them to one dtype first"); }
            var src = Dense(h);
            long block = h.ShapeArray[dim] * inner, start = at;
            StridedPlan.ParallelRange(outer, outer * block, (s, e) =>
            {
                for (long o = s; o < e; o++) CopyBlock(src, src.Offset + o * block, result, o * total * inner + start * inner, block, es);
            });
            Release(src, h);
            at += h.ShapeArray[dim];
        }
        return result;
    }
}
