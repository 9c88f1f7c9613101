using System.Numerics.Tensors;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// Double-precision GEMM for float64 work such as gradient checks: correctness first. A KC×NB slice of B is
/// copied row-major when it is strided, then each row of C is updated by vectorised AXPYs
/// (<see cref="TensorPrimitives"/> picks AVX-512, AVX2 or scalar); rows are split across cores.
/// </summary>
internal static unsafe class GemmDouble
{
    private const int Kc = 256;
    private const int ColumnBlock = 512;

    /// <summary>C (+)= A·B with the strides of <see cref="Gemm.Dgemm"/>; m, n ≥ 1.</summary>
    public static void Run(int m, int n, int k, double* a, long ars, long acs, double* b, long brs, long bcs,
        double* c, long ldc, bool accumulate, int threads)
    {
        int workers = GemmParallel.Degree(threads, 2.0 * m * n * k);
        bool splitRows = m >= workers;
        workers = Math.Min(workers, splitRows ? m : Math.Max(1, n / 64));
        int chunks = workers <= 1 ? 1 : CpuWorkers.ChunkCount(splitRows ? m : n / 64, workers);
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        GemmParallel.For(chunks, workers, w =>
        {
            if (splitRows)
            {
                var (i0, mb) = GemmParallel.Chunk(m, chunks, w, 1);
                if (mb > 0) Block(mb, n, k, (double*)pa + i0 * ars, ars, acs, (double*)pb, brs, bcs, (double*)pc + i0 * ldc, ldc, accumulate);
            }
            else
            {
                var (j0, nb) = GemmParallel.Chunk(n, chunks, w, 8);
                if (nb > 0) Block(m, nb, k, (double*)pa, ars, acs, (double*)pb + j0 * bcs, brs, bcs, (double*)pc + j0, ldc, accumulate);
            }
        });
    }

    private static void Block(int m, int n, int k, double* a, long ars, long acs, double* b, long brs, long bcs,
        double* c, long ldc, bool accumulate)
    {
        double* scratch = bcs == 1 ? null : (double*)GemmBuffers.B((nuint)((long)Kc * ColumnBlock * sizeof(double)));
        for (int j0 = 0; j0 < n; j0 += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, n - j0);
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<double>(c + i * ldc + j0, nb).Clear();
            for (int p0 = 0; p0 < k; p0 += Kc)
            {
                int kc = Math.Min(Kc, k - p0);
                double* bp = b + p0 * brs + j0 * bcs;
                long bStride = brs;
                if (bcs != 1)
                {
                    for (int p = 0; p < kc; p++)
                        for (int j = 0; j < nb; j++) scratch[(long)p * nb + j] = bp[p * brs + j * bcs];
                    bp = scratch;
                    bStride = nb;
                }
                for (int i = 0; i < m; i++)
                {
                    var ci = new Span<double>(c + i * ldc + j0, nb);
                    double* ai = a + i * ars + p0 * acs;
                    for (int p = 0; p < kc; p++)
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(bp + p * bStride, nb), ai[p * acs], ci, ci);
                }
            }
        }
    }
}
