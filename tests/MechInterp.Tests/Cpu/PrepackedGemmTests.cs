using MechInterp.Backends.Cpu.Kernels;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// Gemm.SgemmPrepacked (B read from a whole-matrix <see cref="PackedPanels"/>) against Gemm.Sgemm on the matrix it was
/// packed from: the same kernel, blocking and summation order, so the results must be equal bit for bit. Shapes cover
/// partial panels (n not a multiple of Nr), partial k slices (k past KC=256), several column blocks (n past NC=4096),
/// row- and column-major B, accumulate, one and all threads. Also run on the AVX2 and scalar kernels by
/// <see cref="GemmFallbackTests"/>.
/// </summary>
public sealed unsafe class PrepackedGemmTests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 5, 1, 1 }, { 8, 7, 33 }, { 9, 65, 257 }, { 31, 257, 70 }, { 64, 300, 97 }, { 130, 513, 40 },
        { 200, 260, 40 }, { 13, 520, 130 }, { 17, 40, 4200 }, { 6, 768, 50 }, { 250, 96, 31 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void PrepackedEqualsOnTheFlyPackingBitForBit(int m, int k, int n)
    {
        var rng = new Random(m * 7919 + k * 31 + n);
        float[] a = Random(rng, m * k), b = Random(rng, k * n), c0 = Random(rng, m * n);
        foreach (bool columnMajorB in new[] { false, true })
            foreach (bool accumulate in new[] { false, true })
                foreach (int threads in new[] { 1, 0 })
                {
                    long brs = columnMajorB ? 1 : n, bcs = columnMajorB ? k : 1;
                    float[] expected = (float[])c0.Clone(), actual = (float[])c0.Clone();
                    fixed (float* pa = a, pb = b, pe = expected, pc = actual)
                    {
                        Gemm.Sgemm(m, n, k, pa, k, 1, pb, brs, bcs, pe, n, accumulate, threads);
                        var packed = PackedPanels.Pack(k, n, pb, brs, bcs, Gemm.PanelWidth);
                        Gemm.SgemmPrepacked(m, pa, k, 1, packed, pc, n, accumulate, threads);
                    }
                    Assert.True(expected.AsSpan().SequenceEqual(actual),
                        $"{m}x{k}x{n} columnMajorB={columnMajorB} accumulate={accumulate} threads={threads}: first difference at {FirstDifference(expected, actual)}");
                }
    }

    [Theory]
    [InlineData(1, 300, 70)]
    [InlineData(2, 768, 4200)]
    [InlineData(4, 33, 31)]
    public void FewRowProductsOnAPackMatchAFloat64Reference(int m, int k, int n)
    {
        // Decode steps read a weight's pack through the blocked kernel (rows past m padded): not the streaming path's
        // summation order, so compared with an exact reference instead of bit for bit.
        var rng = new Random(m + k + n);
        float[] a = Random(rng, m * k), b = Random(rng, k * n), c = new float[m * n];
        fixed (float* pa = a, pb = b, pc = c)
            Gemm.SgemmPrepacked(m, pa, k, 1, PackedPanels.Pack(k, n, pb, 1, k, Gemm.PanelWidth), pc, n, false, 0);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++) { double t = (double)a[i * k + p] * b[p + j * k]; s += t; mag += Math.Abs(t); }
                Assert.True(Math.Abs(s - c[i * n + j]) <= 1e-6 * Math.Sqrt(k) * mag + 1e-6, $"C[{i},{j}] expected {s}, got {c[i * n + j]}");
            }
    }

    [Fact]
    public void PackedLayoutHoldsEveryElementOfBAndZeroPadding()
    {
        // An independent check of the documented layout: panel q of slice s holds B(s*Kc + p, q*Nr + j) at
        // slice start + q*Nr*kc + p*Nr + j, and zeros past column n.
        const int k = 300, n = 45;
        int nr = Gemm.PanelWidth;
        var b = Random(new Random(5), k * n);
        fixed (float* pb = b)
        {
            var packed = PackedPanels.Pack(k, n, pb, n, 1, nr);
            Assert.Equal((n + nr - 1) / nr * nr, packed.PaddedN);
            for (int p0 = 0; p0 < k; p0 += GemmBlocked.Kc)
            {
                int kc = Math.Min(GemmBlocked.Kc, k - p0);
                for (int q = 0; q * nr < n; q++)
                {
                    float* panel = packed.Panel(p0, q * nr);
                    for (int p = 0; p < kc; p++)
                        for (int j = 0; j < nr; j++)
                        {
                            int col = q * nr + j;
                            float want = col < n ? b[(p0 + p) * n + col] : 0f;
                            Assert.Equal(want, panel[p * nr + j]);
                        }
                }
            }
        }
    }

    [Fact]
    public void RejectsAPackForAnotherPanelWidth()
    {
        var b = new float[64];
        var c = new float[64];
        fixed (float* pb = b, pc = c)
        {
            var packed = PackedPanels.Pack(8, 8, pb, 8, 1, Gemm.PanelWidth * 2);
            float* a = pb, cc = pc;
            var error = Assert.Throws<ArgumentException>(() => Gemm.SgemmPrepacked(8, a, 8, 1, packed, cc, 8, false, 0));
            Assert.Contains("panels", error.Message);
        }
    }

    private static int FirstDifference(float[] x, float[] y)
    {
        for (int i = 0; i < x.Length; i++)
            if (BitConverter.SingleToInt32Bits(x[i]) != BitConverter.SingleToInt32Bits(y[i])) return i;
        return -1;
    }

    private static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
