using MechInterp.Backends.Cpu.Kernels;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// Gemm.Sgemm / Gemm.Dgemm against a naive float64 reference computed here: edge sizes around the register
/// tiles, all four transpose combinations (through strides), general strides, accumulate, padded C and threads.
/// </summary>
public sealed unsafe class GemmTests
{
    /// <summary>Environment variable set by <see cref="GemmFallbackTests"/> to the ISA a child run must be using.</summary>
    public const string ExpectedIsaVariable = "MECHINTERP_EXPECT_GEMM_ISA";

    /// <summary>Sizes around the register tiles (8×32, 6×16, 4×4), the KC=256 and MC=192 blocks and NC=4096.</summary>
    public static TheoryData<int, int, int> Shapes() => new()
    {
        { 1, 1, 1 }, { 1, 7, 33 }, { 1, 65, 257 }, { 2, 31, 65 }, { 3, 257, 7 }, { 4, 33, 100 }, { 5, 9, 31 },
        { 7, 31, 33 }, { 8, 32, 32 }, { 9, 1, 17 }, { 31, 65, 7 }, { 33, 257, 65 }, { 65, 33, 31 }, { 64, 300, 97 },
        { 130, 513, 40 }, { 257, 70, 33 }, { 200, 260, 40 }, { 13, 520, 130 }, { 9, 20, 4200 }, { 2, 5, 4500 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SgemmMatchesReferenceForAllTransposes(int m, int k, int n)
    {
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                    CheckSgemm(m, k, n, ta, tb, accumulate, threads: (m + n) % 2 == 0 ? 0 : 1, seed: m * 1000 + k * 10 + n);
    }

    [Theory]
    [InlineData(96, 100, 512, 0)]
    [InlineData(256, 300, 24, 2)]
    [InlineData(1, 300, 3000, 2)]
    [InlineData(3, 300, 2049, 0)]
    public void SgemmMultiThreadedMatchesReference(int m, int k, int n, int threads)
    {
        CheckSgemm(m, k, n, false, false, false, threads, seed: 11);
        CheckSgemm(m, k, n, true, true, true, threads, seed: 12);
    }

    [Fact]
    public void SgemmHandlesGeneralStridesAndPaddedC()
    {
        // A(i,p) = a[i*(2k+3) + 2p] (every other column of a wider buffer); B(p,j) = b[5p + (5k+1)j] (no unit stride).
        const int m = 37, k = 45, n = 29;
        long ars = 2 * k + 3, acs = 2, brs = 5, bcs = 5 * k + 1, ldc = n + 13;
        var rng = new Random(3);
        float[] a = Random(rng, (int)(ars * m));
        float[] b = Random(rng, (int)(bcs * n + brs * k));
        float[] c = Enumerable.Repeat(7f, (int)(ldc * m)).ToArray();
        fixed (float* pa = a, pb = b, pc = c)
            Gemm.Sgemm(m, n, k, pa, ars, acs, pb, brs, bcs, pc, ldc, accumulate: true, threads: 0);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < (int)ldc; j++)
            {
                if (j >= n)
                {
                    Assert.Equal(7f, c[i * ldc + j]); // padding past n is never written
                    continue;
                }
                double s = 7, mag = 7;
                for (int p = 0; p < k; p++)
                {
                    double t = (double)a[i * ars + p * acs] * b[p * brs + j * bcs];
                    s += t;
                    mag += Math.Abs(t);
                }
                AssertClose(s, c[i * ldc + j], mag, k, i, j);
            }
    }

    [Fact]
    public void SgemmWithZeroDepthClearsOrKeepsC()
    {
        float[] c = { 1, 2, 3, 4, 5, 6 };
        fixed (float* pc = c)
        {
            Gemm.Sgemm(2, 3, 0, null, 0, 1, null, 3, 1, pc, 3, accumulate: true, threads: 0);
            Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, c);
            Gemm.Sgemm(2, 3, 0, null, 0, 1, null, 3, 1, pc, 3, accumulate: false, threads: 0);
            Assert.All(c, v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void GemmRejectsInvalidArguments()
    {
        float[] x = new float[16];
        double[] d = new double[16];
        fixed (float* p = x)
        fixed (double* q = d)
        {
            float* pp = p;
            double* qq = q;
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(-1, 2, 2, pp, 2, 1, pp, 2, 1, pp, 2, false, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(2, 4, 2, pp, 2, 1, pp, 4, 1, pp, 3, false, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Sgemm(2, 2, 2, pp, 2, 1, pp, 2, 1, pp, 2, false, -1));
            Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Dgemm(2, 2, -3, qq, 2, 1, qq, 2, 1, qq, 2, false, 0));
        }
    }

    [Theory]
    [InlineData(1, 5, 3)]
    [InlineData(7, 31, 33)]
    [InlineData(65, 257, 70)]
    [InlineData(70, 40, 300)]
    public void DgemmMatchesReferenceForAllTransposes(int m, int k, int n)
    {
        var rng = new Random(m + k + n);
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    double[] a = Array.ConvertAll(Random(rng, m * k), v => (double)v);
                    double[] b = Array.ConvertAll(Random(rng, k * n), v => (double)v);
                    double[] c = Array.ConvertAll(Random(rng, m * n), v => (double)v);
                    double[] expected = (double[])c.Clone();
                    var (ars, acs, brs, bcs) = Strides(m, k, n, ta, tb);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                        {
                            double s = accumulate ? c[i * n + j] : 0;
                            for (int p = 0; p < k; p++) s += a[i * ars + p * acs] * b[p * brs + j * bcs];
                            expected[i * n + j] = s;
                        }
                    fixed (double* pa = a, pb = b, pc = c)
                        Gemm.Dgemm(m, n, k, pa, ars, acs, pb, brs, bcs, pc, n, accumulate, threads: 0);
                    for (int i = 0; i < m * n; i++)
                        Assert.True(Math.Abs(expected[i] - c[i]) <= 1e-12 * (1 + Math.Abs(expected[i])) * k,
                            $"Dgemm {m}x{k}x{n} ta={ta} tb={tb} acc={accumulate}: element {i} expected {expected[i]}, got {c[i]}");
                }
    }

    [Fact]
    public void RunsOnTheExpectedInstructionSet()
    {
        // Set by the child runs in GemmFallbackTests; in a normal run this documents which kernel ran.
        string? expected = Environment.GetEnvironmentVariable(ExpectedIsaVariable);
        Assert.Contains(Gemm.Isa, new[] { "avx512", "avx2", "scalar" });
        if (!string.IsNullOrEmpty(expected)) Assert.Equal(expected, Gemm.Isa);
    }

    private static void CheckSgemm(int m, int k, int n, bool ta, bool tb, bool accumulate, int threads, int seed)
    {
        var rng = new Random(seed);
        float[] a = Random(rng, m * k), b = Random(rng, k * n), c = Random(rng, m * n);
        float[] before = (float[])c.Clone();
        var (ars, acs, brs, bcs) = Strides(m, k, n, ta, tb);
        fixed (float* pa = a, pb = b, pc = c)
            Gemm.Sgemm(m, n, k, pa, ars, acs, pb, brs, bcs, pc, n, accumulate, threads);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = accumulate ? before[i * n + j] : 0, mag = Math.Abs(s);
                for (int p = 0; p < k; p++)
                {
                    double t = (double)a[i * ars + p * acs] * b[p * brs + j * bcs];
                    s += t;
                    mag += Math.Abs(t);
                }
                AssertClose(s, c[i * n + j], mag, k, i, j, $"{m}x{k}x{n} ta={ta} tb={tb} acc={accumulate} threads={threads}");
            }
    }

    /// <summary>Row-major operands, or their transposes stored row-major (A^T is k×m, B^T is n×k).</summary>
    private static (long Ars, long Acs, long Brs, long Bcs) Strides(int m, int k, int n, bool ta, bool tb) =>
        (ta ? 1 : k, ta ? m : 1, tb ? 1 : n, tb ? k : 1);

    private static void AssertClose(double expected, float actual, double magnitude, int depth, int i, int j, string what = "")
    {
        double tol = 1e-6 * Math.Sqrt(depth) * magnitude + 1e-6;
        Assert.True(Math.Abs(expected - actual) <= tol, $"Sgemm {what}: C[{i},{j}] expected {expected}, got {actual} (tol {tol})");
    }

    private static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
