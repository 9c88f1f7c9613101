using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle MatMul(TensorHandle a, TensorHandle b)
    {
        CpuHandle ha = H(a), hb = H(b);
        if (ha.DType != hb.DType) throw new ArgumentException($"MatMul: dtypes differ ({ha.DType} and {hb.DType}); convert one first");
        if (ha.DType is not (DType.Float32 or DType.Float64)) throw Unsupported("MatMul", ha.DType);
        if (ha.Rank < 2 || hb.Rank != ha.Rank)
            throw new ArgumentException($"MatMul: operands {Tensor.ShapeString(ha.ShapeArray)} and {Tensor.ShapeString(hb.ShapeArray)} need the same rank >= 2 (broadcast the batch dims first)");
        int r = ha.Rank;
        long m = ha.ShapeArray[r - 2], k = ha.ShapeArray[r - 1], n = hb.ShapeArray[r - 1];
        if (hb.ShapeArray[r - 2] != k) throw new ArgumentException($"MatMul: inner dimensions differ: {Tensor.ShapeString(ha.ShapeArray)} @ {Tensor.ShapeString(hb.ShapeArray)}");
        for (int i = 0; i < r - 2; i++)
            if (ha.ShapeArray[i] != hb.ShapeArray[i])
                throw new ArgumentException($"MatMul: batch dims differ: {Tensor.ShapeString(ha.ShapeArray)} @ {Tensor.ShapeString(hb.ShapeArray)}; expand them to one shape first");
        if (m > int.MaxValue || n > int.MaxValue || k > int.MaxValue) throw new ArgumentException("MatMul: matrix dims must fit in 32 bits");
        var batchShape = ha.ShapeArray[..(r - 2)];
        var outShape = (long[])ha.ShapeArray.Clone();
        outShape[r - 1] = n;
        var result = CpuHandle.Allocate(ha.DType, outShape);
        var pa = Gemmable(ha); var pb = Gemmable(hb);
        try
        {
            long batch = ShapeUtil.NumElements(batchShape);
            if (result.NumElements == 0) return result;
            if (k == 0) { result.Storage.Span<byte>().Slice(0, (int)(result.NumElements * ha.DType.ElementSize())).Clear(); return result; }
            if (batch == 1 && TryPrepackedB(pa, pb, result, (int)m, (int)n, (int)k)) return result;
            var aOff = BatchOffsets(pa, batchShape); var bOff = BatchOffsets(pb, batchShape);
            long flopsPer = m * n * k;
            bool manySmall = batch >= 2 * CpuWorkers.Threads && flopsPer < (1L << 21);
            if (manySmall)
                StridedPlan.ParallelRange(batch, batch * flopsPer, (s, e) => { for (long i = s; i < e; i++) GemmOne(pa, pb, result, aOff[i], bOff[i], i * m * n, (int)m, (int)n, (int)k, 1); }, 1 << 15);
            else
                for (long i = 0; i < batch; i++) GemmOne(pa, pb, result, aOff[i], bOff[i], i * m * n, (int)m, (int)n, (int)k, flopsPer < (1L << 15) ? 1 : 0);
            return result;
        }
        finally { Release(pa, ha); Release(pb, hb); }
    }

    /// <summary>x itself when its matrices have a unit stride in one direction; otherwise a contiguous copy.</summary>
    private static CpuHandle Gemmable(CpuHandle x)
    {
        int r = x.Rank;
        long rs = x.Strides[r - 2], cs = x.Strides[r - 1];
        bool ok = cs == 1 || rs == 1 || x.ShapeArray[r - 1] == 1 || x.ShapeArray[r - 2] == 1;
        return ok ? x : (CpuHandle)Instance.Contiguous(x);
    }

    /// <summary>Storage offset of each batch entry's matrix (stride-0 batch dims repeat one matrix).</summary>
    private static long[] BatchOffsets(CpuHandle x, long[] batchShape)
    {
        long batch = ShapeUtil.NumElements(batchShape);
        var result = new long[batch];
        for (long i = 0; i < batch; i++)
        {
            long off = x.Offset, rem = i;
            for (int d = batchShape.Length - 1; d >= 0; d--) { off += rem % batchShape[d] * x.Strides[d]; rem /= batchShape[d]; }
            result[i] = off;
        }
        return result;
    }

    private static unsafe void GemmOne(CpuHandle a, CpuHandle b, CpuHandle c, long aOff, long bOff, long cOff, int m, int n, int k, int threads)
    {
        int r = a.Rank;
        long ars = a.Strides[r - 2], acs = a.Strides[r - 1], brs = b.Strides[r - 2], bcs = b.Strides[r - 1];
        if (a.DType == DType.Float32)
        {
            fixed (float* pa = a.Storage.Span<float>(), pb = b.Storage.Span<float>(), pc = c.Storage.Span<float>())
                Gemm.Sgemm(m, n, k, pa + aOff, ars, acs, pb + bOff, brs, bcs, pc + cOff, n, false, threads);
        }
        else
        {
            fixed (double* pa = a.Storage.Span<double>(), pb = b.Storage.Span<double>(), pc = c.Storage.Span<double>())
                Gemm.Dgemm(m, n, k, pa + aOff, ars, acs, pb + bOff, brs, bcs, pc + cOff, n, false, threads);
        }
    }
}
