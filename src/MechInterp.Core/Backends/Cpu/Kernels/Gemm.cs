using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// General matrix multiply over raw pointers with arbitrary operand strides (so transposed operands need no copy).
/// Single precision runs a packed, cache-blocked, register-blocked kernel (AVX-512, AVX2+FMA or scalar, chosen
/// at JIT time), split across cores; a few-row A (decode) takes a bandwidth-bound GEMV path.
/// </summary>
internal static unsafe class Gemm
{
    // C(i,j) (+)= sum_k A(i,k) B(k,j); A(i,k) = a[i*aRowStride + k*aColStride]; B(k,j) = b[k*bRowStride + j*bColStride];
    // C(i,j) = c[i*ldc + j]. accumulate=false overwrites C. threads: max degree of parallelism (0 = all cores).

    /// <summary>The micro-kernel family this process uses: "avx512", "avx2" or "scalar".</summary>
    public static string Isa => UseAvx512 ? "avx512" : UseAvx2 ? "avx2" : "scalar";

    private static bool UseAvx512 => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    private static bool UseAvx2 => Fma.IsSupported && Avx2.IsSupported && Vector256.IsHardwareAccelerated;

    /// <summary>Single-precision GEMM: C = A·B (or C += A·B when <paramref name="accumulate"/>).</summary>
    public static void Sgemm(int m, int n, int k, float* a, long aRowStride, long aColStride, float* b, long bRowStride, long bColStride, float* c, long ldc, bool accumulate, int threads)
    {
        Validate(m, n, k, ldc, threads);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) ClearRows(c, m, n, ldc);
            return;
        }
        if (UseAvx512) Dispatch<SgemmKernelAvx512>(m, n, k, a, aRowStride, aColStride, b, bRowStride, bColStride, c, ldc, accumulate, threads);
        else if (UseAvx2) Dispatch<SgemmKernelAvx2>(m, n, k, a, aRowStride, aColStride, b, bRowStride, bColStride, c, ldc, accumulate, threads);
        else Dispatch<SgemmKernelScalar>(m, n, k, a, aRowStride, aColStride, b, bRowStride, bColStride, c, ldc, accumulate, threads);
    }

    /// <summary>Columns per packed B panel of this process's micro-kernel (what <see cref="PackedPanels"/> must use).</summary>
    public static int PanelWidth => UseAvx512 ? SgemmKernelAvx512.Nr : UseAvx2 ? SgemmKernelAvx2.Nr : SgemmKernelScalar.Nr;

    /// <summary>Whether a product with <paramref name="m"/> rows runs the packed, blocked kernel (and so could read a
    /// <see cref="PackedPanels"/> B) rather than the few-row streaming path.</summary>
    public static bool PacksB(int m, long brs, long bcs) => !GemmSmallM.Supports(m, brs, bcs);

    /// <summary>Single-precision GEMM with B already in panel layout: C = A·B (or C += A·B). Same results, bit for bit,
    /// as <see cref="Sgemm"/> on the matrix <paramref name="b"/> was packed from.</summary>
    public static void SgemmPrepacked(int m, float* a, long aRowStride, long aColStride, PackedPanels b, float* c, long ldc, bool accumulate, int threads)
    {
        Validate(m, b.N, b.K, ldc, threads);
        if (b.Nr != PanelWidth) throw new ArgumentException($"B was packed for {b.Nr}-column panels; this process's kernel uses {PanelWidth}", nameof(b));
        if (m == 0) return;
        if (UseAvx512) Blocked<SgemmKernelAvx512>(m, b.N, b.K, a, aRowStride, aColStride, null, 0, 0, c, ldc, accumulate, threads, b);
        else if (UseAvx2) Blocked<SgemmKernelAvx2>(m, b.N, b.K, a, aRowStride, aColStride, null, 0, 0, c, ldc, accumulate, threads, b);
        else Blocked<SgemmKernelScalar>(m, b.N, b.K, a, aRowStride, aColStride, null, 0, 0, c, ldc, accumulate, threads, b);
    }

    /// <summary>Double-precision GEMM: C = A·B (or C += A·B when <paramref name="accumulate"/>).</summary>
    public static void Dgemm(int m, int n, int k, double* a, long aRowStride, long aColStride, double* b, long bRowStride, long bColStride, double* c, long ldc, bool accumulate, int threads)
    {
        Validate(m, n, k, ldc, threads);
        if (m == 0 || n == 0) return;
        GemmDouble.Run(m, n, k, a, aRowStride, aColStride, b, bRowStride, bColStride, c, ldc, accumulate, threads);
    }

    private static void Dispatch<TK>(int m, int n, int k, float* a, long ars, long acs, float* b, long brs, long bcs,
        float* c, long ldc, bool accumulate, int threads) where TK : struct, ISgemmKernel
    {
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;

        if (GemmSmallM.Supports(m, brs, bcs))
        {
            // Bandwidth bound: split the columns of B (and C) across workers in cache-line multiples.
            int workers = Math.Min(GemmParallel.StreamingDegree(threads, 4.0 * k * n), Math.Max(1, n / 64));
            int chunks = workers <= 1 ? 1 : CpuWorkers.ChunkCount(n / 64, workers);
            GemmParallel.For(chunks, workers, w =>
            {
                var (j0, nb) = GemmParallel.Chunk(n, chunks, w, 16);
                if (nb == 0) return;
                float* bw = (float*)pb + j0 * bcs;
                float* cw = (float*)pc + j0;
                if (bcs == 1) GemmSmallM.RowMajorB(m, nb, k, (float*)pa, ars, acs, bw, brs, cw, ldc, accumulate);
                else GemmSmallM.ColumnMajorB(m, nb, k, (float*)pa, ars, acs, bw, bcs, cw, ldc, accumulate);
            });
            return;
        }
        Blocked<TK>(m, n, k, a, ars, acs, b, brs, bcs, c, ldc, accumulate, threads, null);
    }

    private static void Blocked<TK>(int m, int n, int k, float* a, long ars, long acs, float* b, long brs, long bcs,
        float* c, long ldc, bool accumulate, int threads, PackedPanels? prepacked) where TK : struct, ISgemmKernel
    {
        // A few rows against a prepacked B (a decode step reading a weight's pack) stream B like the GEMV path.
        int workers = prepacked is not null && m <= GemmSmallM.MaxRows
            ? GemmParallel.StreamingDegree(threads, 4.0 * k * n)
            : GemmParallel.Degree(threads, 2.0 * m * n * k);
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        // Split the dimension with more register tiles; each worker owns a disjoint block of C.
        int nTiles = (n + TK.Nr - 1) / TK.Nr, mTiles = (m + TK.Mr - 1) / TK.Mr;
        bool splitN = nTiles >= mTiles;
        workers = Math.Min(workers, splitN ? nTiles : mTiles);
        // More chunks than threads, so a preempted thread delays only its own. Column chunks each pack all of A, so they
        // stay fewer (2 per thread, and at least 4 panels wide); row chunks pack only their own rows of A (and B once
        // each unless B is prepacked), in whole Mc blocks where there are enough.
        int chunks = workers <= 1 ? 1
            : splitN ? CpuWorkers.ChunkCount(nTiles / 4, workers, 2)
            : CpuWorkers.ChunkCount(m >= 2 * workers * GemmBlocked.Mc ? (m + GemmBlocked.Mc - 1) / GemmBlocked.Mc : mTiles, workers, prepacked is null ? 2 : 4);
        chunks = Math.Max(chunks, workers);
        GemmParallel.For(chunks, workers, w =>
        {
            if (splitN)
            {
                var (j0, nb) = GemmParallel.Chunk(n, chunks, w, TK.Nr);
                if (nb > 0)
                    GemmBlocked.Run<TK>(m, nb, k, (float*)pa, ars, acs, (float*)pb + j0 * bcs, brs, bcs, (float*)pc + j0, ldc, accumulate, prepacked, j0);
            }
            else
            {
                var (i0, mb) = GemmParallel.Chunk(m, chunks, w, TK.Mr);
                if (mb > 0)
                    GemmBlocked.Run<TK>(mb, n, k, (float*)pa + i0 * ars, ars, acs, (float*)pb, brs, bcs, (float*)pc + i0 * ldc, ldc, accumulate, prepacked);
            }
        });
    }

    private static void ClearRows(float* c, int m, int n, long ldc)
    {
        for (int i = 0; i < m; i++) new Span<float>(c + i * ldc, n).Clear();
    }

    private static void Validate(int m, int n, int k, long ldc, int threads)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative, got m={m}, n={n}, k={k}.");
        if (threads < 0)
            throw new ArgumentOutOfRangeException(nameof(threads), $"threads must be 0 (all cores) or positive, got {threads}.");
        if (m > 1 && ldc < n)
            throw new ArgumentOutOfRangeException(nameof(ldc), $"ldc ({ldc}) must be at least n ({n}) so rows of C do not overlap.");
    }
}
