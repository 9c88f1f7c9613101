using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>Helpers for the CPU backend tests: seeded data and independent float64 reference computations.</summary>
internal static class CpuTestUtil
{
    public static double[] RandomData(long n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var d = new double[n];
        for (long i = 0; i < n; i++) d[i] = (rng.NextDouble() * 2 - 1) * scale;
        return d;
    }

    public static float[] ToFloat(double[] d) => d.Select(v => (float)v).ToArray();

    /// <summary>Values as float64 through the public API (exact for float32 inputs).</summary>
    public static double[] Values(Tensor t) => t.To(DType.Float64).ToArray<double>();

    public static long[] Strides(long[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    public static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Multi-index of flat position <paramref name="flat"/> in <paramref name="shape"/>.</summary>
    public static long[] Unravel(long flat, long[] shape)
    {
        var idx = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = flat % shape[d]; flat /= shape[d]; }
        return idx;
    }

    /// <summary>Element of row-major <paramref name="data"/> of <paramref name="shape"/> addressed by the trailing-aligned,
    /// broadcast index <paramref name="outIdx"/>.</summary>
    public static double At(double[] data, long[] shape, long[] outIdx)
    {
        int lead = outIdx.Length - shape.Length;
        long off = 0, stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            long i = shape[d] == 1 ? 0 : outIdx[lead + d];
            off += i * stride;
            stride *= shape[d];
        }
        return data[off];
    }

    public static long[] BroadcastShape(long[] a, long[] b)
    {
        int n = Math.Max(a.Length, b.Length);
        var r = new long[n];
        for (int i = 0; i < n; i++)
        {
            long da = i - (n - a.Length) >= 0 ? a[i - (n - a.Length)] : 1;
            long db = i - (n - b.Length) >= 0 ? b[i - (n - b.Length)] : 1;
            r[i] = Math.Max(da, db);
        }
        return r;
    }

    public static double[] RefBinary(double[] a, long[] sa, double[] b, long[] sb, Func<double, double, double> f, out long[] shape)
    {
        shape = BroadcastShape(sa, sb);
        var r = new double[Count(shape)];
        for (long i = 0; i < r.Length; i++)
        {
            var idx = Unravel(i, shape);
            r[i] = f(At(a, sa, idx), At(b, sb, idx));
        }
        return r;
    }

    /// <summary>Row-major transpose of a [rows, cols] matrix.</summary>
    public static double[] Transpose(double[] d, long rows, long cols)
    {
        var r = new double[d.Length];
        for (long i = 0; i < rows; i++) for (long j = 0; j < cols; j++) r[j * rows + i] = d[i * cols + j];
        return r;
    }

    public static void Close(double[] expected, double[] actual, double rtol, double atol, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a) : double.IsInfinity(e) ? e == a : Math.Abs(e - a) <= atol + rtol * Math.Abs(e);
            if (!ok) Assert.Fail($"{what}[{i}]: expected {e:R}, got {a:R} (diff {Math.Abs(e - a):E3})");
        }
    }

    /// <summary>Float32 tensor of <paramref name="shape"/> from doubles (rounded to float; the rounded values are returned for references).</summary>
    public static (Tensor T, double[] Data) F32(long[] shape, int seed, double scale = 1)
    {
        var d = RandomData(Count(shape), seed, scale).Select(v => (double)(float)v).ToArray();
        return (Tensor.FromArray(ToFloat(d), shape), d);
    }

    public static (Tensor T, double[] Data) F64(long[] shape, int seed, double scale = 1)
    {
        var d = RandomData(Count(shape), seed, scale);
        return (Tensor.FromArray(d, shape), d);
    }
}
