using System.Runtime.CompilerServices;
namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// The single-threaded, cache-blocked SGEMM loop nest (Goto/BLIS order): for each NC-wide block of columns and
/// KC-deep slice of k, B is packed once (an L3/L2-resident block whose KC×NR micro-panels stay in L1);
/// for each MC-tall block of rows A is packed (L2-resident); the micro-kernel then sweeps the register tiles.
/// </summary>
internal static unsafe class GemmBlocked
{
    /// <summary>Depth of a k slice: a KC×32 float B micro-panel is 32 KiB, within Zen 5's 48 KiB L1d.</summary>
    internal const int Kc = 256;

    /// <summary>Rows per packed A block: MC×KC floats (≈ 192 KiB) sit in the 1 MiB L2.</summary>
    internal const int Mc = 192;

    /// <summary>Columns per packed B block: KC×NC floats (≈ 4 MiB) sit in L3.</summary>
    internal const int Nc = 4096;

    /// <summary>C (+)= A·B for one worker's block, with the micro-kernel <typeparamref name="TK"/>. With
    /// <paramref name="prepacked"/>, B's panels are read from it (this block's column 0 is its column
    /// <paramref name="prepackedColumn"/>, a multiple of Nr) and <paramref name="b"/> is not read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TK>(int m, int n, int k, float* a, long ars, long acs, float* b, long brs, long bcs,
        float* c, long ldc, bool accumulate, PackedPanels? prepacked = null, int prepackedColumn = 0) where TK : struct, ISgemmKernel
    {
        int mr = TK.Mr, nr = TK.Nr;
        int kcMax = Math.Min(Kc, k);
        int mcMax = RoundUp(Math.Min(Mc, m), mr);
        int ncMax = RoundUp(Math.Min(Nc, n), nr);
        float* packA = (float*)GemmBuffers.A((nuint)((long)mcMax * kcMax * sizeof(float)));
        float* packB = prepacked is null ? (float*)GemmBuffers.B((nuint)((long)ncMax * kcMax * sizeof(float))) : null;
        float* edge = stackalloc float[mr * nr];

        for (int jc = 0; jc < n; jc += Nc)
        {
            int nc = Math.Min(Nc, n - jc);
            for (int pc = 0; pc < k; pc += Kc)
            {
                int kc = Math.Min(Kc, k - pc);
                bool acc = accumulate || pc > 0;
                if (prepacked is null) GemmPacking.PackB(kc, nc, b + pc * brs + jc * bcs, brs, bcs, nr, packB);
                else packB = prepacked.Panel(pc, prepackedColumn + jc);
                for (int ic = 0; ic < m; ic += Mc)
                {
                    int mc = Math.Min(Mc, m - ic);
                    GemmPacking.PackA(mc, kc, a + ic * ars + pc * acs, ars, acs, mr, packA);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* bp = packB + (long)jr * kc;
                        for (int ir = 0; ir < mc; ir += mr)
                        {
                            int rows = Math.Min(mr, mc - ir);
                            float* ap = packA + (long)ir * kc;
                            float* ct = c + (ic + ir) * ldc + jc + jr;
                            if (rows == mr && cols == nr)
                                TK.Tile(kc, ap, bp, ct, ldc, acc);
                            else
                            {
                                TK.Tile(kc, ap, bp, edge, nr, false);
                                MergeEdge(edge, nr, ct, ldc, rows, cols, acc);
                            }
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MergeEdge(float* tile, int nr, float* c, long ldc, int rows, int cols, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + r * nr;
            float* dst = c + r * ldc;
            if (accumulate)
                for (int j = 0; j < cols; j++) dst[j] += src[j];
            else
                for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
