using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// Packs strided blocks of A and B into the contiguous, zero-padded panels the micro-kernels read.
/// Packing handles any strides, so transposed (or otherwise strided) operands need no separate copy.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs the <paramref name="mc"/>×<paramref name="kc"/> block A(i,p) = a[i*rs + p*cs] into panels of
    /// <paramref name="mr"/> rows: panel q holds dst[q*mr*kc + p*mr + r] = A(q*mr + r, p), zero rows past mc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(int mc, int kc, float* a, long rs, long cs, int mr, float* dst)
    {
        for (int i0 = 0; i0 < mc; i0 += mr)
        {
            int rows = Math.Min(mr, mc - i0);
            float* src = a + i0 * rs;
            if (rows == mr && cs == 1 && mr == 8)
            {
                PackA8RowMajor(kc, src, rs, dst);
            }
            else if (rs == 1 && rows == mr && mr == 8 && Vector256.IsHardwareAccelerated)
            {
                // Column-major A (a transposed operand): each step p is 8 contiguous floats.
                for (int p = 0; p < kc; p++) Vector256.Store(Vector256.Load(src + p * cs), dst + p * 8);
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* d = dst + p * mr;
                    float* s = src + p * cs;
                    int r = 0;
                    for (; r < rows; r++) d[r] = s[r * rs];
                    for (; r < mr; r++) d[r] = 0f;
                }
            }
            dst += (long)mr * kc;
        }
    }

    /// <summary>Eight row-major rows interleaved step by step (the common A layout for the AVX-512 kernel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA8RowMajor(int kc, float* src, long rs, float* dst)
    {
        float* r0 = src, r1 = src + rs, r2 = src + 2 * rs, r3 = src + 3 * rs;
        float* r4 = src + 4 * rs, r5 = src + 5 * rs, r6 = src + 6 * rs, r7 = src + 7 * rs;
        int p = 0;
        if (Avx.IsSupported)
        {
            for (; p + 8 <= kc; p += 8)
                Transpose8x8(Avx.LoadVector256(r0 + p), Avx.LoadVector256(r1 + p), Avx.LoadVector256(r2 + p), Avx.LoadVector256(r3 + p),
                    Avx.LoadVector256(r4 + p), Avx.LoadVector256(r5 + p), Avx.LoadVector256(r6 + p), Avx.LoadVector256(r7 + p), dst + p * 8, 8);
        }
        for (; p < kc; p++)
        {
            float* d = dst + p * 8;
            d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p];
            d[4] = r4[p]; d[5] = r5[p]; d[6] = r6[p]; d[7] = r7[p];
        }
    }

    /// <summary>
    /// Stores the transpose of the 8×8 block whose rows are <paramref name="r0"/>..<paramref name="r7"/>:
    /// output row q (= input column q) goes to dst + q*<paramref name="stride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* dst, long stride)
    {
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst + 0 * stride, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + 1 * stride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * stride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * stride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * stride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * stride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * stride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * stride, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>
    /// Packs the <paramref name="kc"/>×<paramref name="nc"/> block B(p,j) = b[p*rs + j*cs] into panels of
    /// <paramref name="nr"/> columns: panel q holds dst[q*nr*kc + p*nr + j] = B(p, q*nr + j), zero columns past nc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(int kc, int nc, float* b, long rs, long cs, int nr, float* dst)
    {
        int j0 = 0;
        if (cs == 1 && nc >= nr)
        {
            // Row-major B: stream each row once, scattering its nr-wide pieces into the full panels.
            j0 = nc / nr * nr;
            PackBRowMajorFull(kc, j0 / nr, b, rs, nr, dst);
            dst += (long)j0 * kc;
        }
        for (; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            float* src = b + j0 * cs;
            if (cs < rs || cs == 1)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* d = dst + p * nr;
                    float* s = src + p * rs;
                    int j = 0;
                    for (; j < cols; j++) d[j] = s[j * cs];
                    for (; j < nr; j++) d[j] = 0f;
                }
            }
            else
            {
                // Column-major B (a transposed operand): 8×8 register transposes, then single columns.
                int j = 0;
                if (rs == 1 && Avx.IsSupported)
                    for (; j + 8 <= cols; j += 8) PackBColumns8(kc, src + j * cs, cs, dst + j, nr);
                for (; j < cols; j++)
                {
                    float* s = src + j * cs;
                    float* d = dst + j;
                    for (int p = 0; p < kc; p++) d[p * nr] = s[p * rs];
                }
                for (j = cols; j < nr; j++)
                    for (int p = 0; p < kc; p++) dst[p * nr + j] = 0f;
            }
            dst += (long)nr * kc;
        }
    }

    /// <summary>Eight contiguous columns of B (column j at src + j*cs) into a panel with row stride nr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBColumns8(int kc, float* src, long cs, float* dst, int nr)
    {
        float* c0 = src, c1 = src + cs, c2 = src + 2 * cs, c3 = src + 3 * cs;
        float* c4 = src + 4 * cs, c5 = src + 5 * cs, c6 = src + 6 * cs, c7 = src + 7 * cs;
        int p = 0;
        for (; p + 8 <= kc; p += 8)
            Transpose8x8(Avx.LoadVector256(c0 + p), Avx.LoadVector256(c1 + p), Avx.LoadVector256(c2 + p), Avx.LoadVector256(c3 + p),
                Avx.LoadVector256(c4 + p), Avx.LoadVector256(c5 + p), Avx.LoadVector256(c6 + p), Avx.LoadVector256(c7 + p), dst + (long)p * nr, nr);
        for (; p < kc; p++)
        {
            float* d = dst + (long)p * nr;
            d[0] = c0[p]; d[1] = c1[p]; d[2] = c2[p]; d[3] = c3[p];
            d[4] = c4[p]; d[5] = c5[p]; d[6] = c6[p]; d[7] = c7[p];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBRowMajorFull(int kc, int panels, float* src, long rs, int nr, float* dst)
    {
        long panelSize = (long)nr * kc;
        for (int p = 0; p < kc; p++, src += rs)
        {
            float* s = src;
            float* d = dst + p * nr;
            if (Vector512.IsHardwareAccelerated && nr % 16 == 0)
            {
                for (int q = 0; q < panels; q++, s += nr, d += panelSize)
                    for (int j = 0; j < nr; j += 16) Vector512.Store(Vector512.Load(s + j), d + j);
            }
            else if (Vector256.IsHardwareAccelerated && nr % 8 == 0)
            {
                for (int q = 0; q < panels; q++, s += nr, d += panelSize)
                    for (int j = 0; j < nr; j += 8) Vector256.Store(Vector256.Load(s + j), d + j);
            }
            else
            {
                for (int q = 0; q < panels; q++, s += nr, d += panelSize)
                    for (int j = 0; j < nr; j++) d[j] = s[j];
            }
        }
    }
}
