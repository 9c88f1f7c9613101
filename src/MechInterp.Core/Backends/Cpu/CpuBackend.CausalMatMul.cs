using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>Query rows per block of the causal product: each block multiplies only up to its last row's visible
    /// column, so about half of a long causal product is skipped at the price of ≤ 64 extra columns per row.</summary>
    private const int CausalRowBlock = 64;

    /// <inheritdoc />
    public TensorHandle CausalMatMul(TensorHandle a, TensorHandle b, long rowsPerGroup, long offset, bool inputMasked)
    {
        CpuHandle ha = H(a), hb = H(b);
        int r = ha.Rank;
        if (ha.DType != DType.Float32 || hb.DType != DType.Float32 || r < 2 || hb.Rank != r || rowsPerGroup < 1
            || ha.ShapeArray[r - 2] % rowsPerGroup != 0 || rowsPerGroup <= CausalRowBlock)
            return MatMul(a, b); // the full product satisfies the contract
        long m = ha.ShapeArray[r - 2], k = ha.ShapeArray[r - 1], n = hb.ShapeArray[r - 1];
        if (hb.ShapeArray[r - 2] != k || !ha.ShapeArray.AsSpan(0, r - 2).SequenceEqual(hb.ShapeArray.AsSpan(0, r - 2)))
            return MatMul(a, b); // MatMul reports the shape error
        var batchShape = ha.ShapeArray[..(r - 2)];
        var outShape = (long[])ha.ShapeArray.Clone();
        outShape[r - 1] = n;
        var result = CpuHandle.Allocate(DType.Float32, outShape);
        var pa = Gemmable(ha); var pb = Gemmable(hb);
        try
        {
            long batch = ShapeUtil.NumElements(batchShape);
            var aOff = BatchOffsets(pa, batchShape); var bOff = BatchOffsets(pb, batchShape);
            long blocksPerGroup = (rowsPerGroup + CausalRowBlock - 1) / CausalRowBlock, groups = m / rowsPerGroup;
            long tasks = batch * groups * blocksPerGroup;
            // One chunk per row block, taken dynamically: blocks further down a group cost more, and a preempted thread
            // holds up only the block it has.
            int workers = (int)Math.Min(tasks, GemmParallel.Degree(0, 1.0 * batch * m * n * k));
            GemmParallel.For(workers <= 1 ? 1 : (int)tasks, workers, w =>
            {
                for (long t = workers <= 1 ? 0 : w; t < (workers <= 1 ? tasks : w + 1); t++)
                {
                    long bi = t / (groups * blocksPerGroup), rest = t % (groups * blocksPerGroup);
                    long row0 = rest / blocksPerGroup * rowsPerGroup + rest % blocksPerGroup * CausalRowBlock;
                    long i1 = Math.Min(rowsPerGroup, rest % blocksPerGroup * CausalRowBlock + CausalRowBlock); // block end, within the group
                    int rows = (int)(i1 - rest % blocksPerGroup * CausalRowBlock);
                    long visible = Math.Clamp(i1 - 1 + offset + 1, 0, inputMasked ? k : n);
                    CausalBlock(pa, pb, result, aOff[bi] + row0 * pa.Strides[r - 2], bOff[bi], (bi * m + row0) * n, rows, (int)n, (int)k, (int)visible, inputMasked);
                }
            });
            return result;
        }
        finally { Release(pa, ha); Release(pb, hb); }
    }

    /// <summary>One row block: scores keep only the first <paramref name="visible"/> columns of B (the rest of C is left
    /// as it is); a masked A uses only its first <paramref name="visible"/> columns and B's first rows.</summary>
    private static unsafe void CausalBlock(CpuHandle a, CpuHandle b, CpuHandle c, long aOff, long bOff, long cOff, int rows, int n, int k, int visible, bool inputMasked)
    {
        int r = a.Rank;
        long ars = a.Strides[r - 2], acs = a.Strides[r - 1], brs = b.Strides[r - 2], bcs = b.Strides[r - 1];
        fixed (float* pa = a.Storage.Span<float>(), pb = b.Storage.Span<float>(), pc = c.Storage.Span<float>())
        {
            if (inputMasked) Gemm.Sgemm(rows, n, visible, pa + aOff, ars, acs, pb + bOff, brs, bcs, pc + cOff, n, false, 1);
            else Gemm.Sgemm(rows, visible, k, pa + aOff, ars, acs, pb + bOff, brs, bcs, pc + cOff, n, false, 1);
        }
    }
}
