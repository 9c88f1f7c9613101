using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>Reductions over every dim (last and non-last), cumulative sums, integer and Bool dtypes.</summary>
public sealed class CpuReductionTests
{
    /// <summary>Reference reduction of row-major data over <paramref name="dim"/>.</summary>
    private static double[] RefReduce(double[] d, long[] shape, int dim, Func<double[], double> f)
    {
        long outer = 1, inner = 1, n = shape[dim];
        for (int i = 0; i < dim; i++) outer *= shape[i];
        for (int i = dim + 1; i < shape.Length; i++) inner *= shape[i];
        var r = new double[outer * inner];
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < inner; j++)
            {
                var vals = new double[n];
                for (long k = 0; k < n; k++) vals[k] = d[(o * n + k) * inner + j];
                r[o * inner + j] = f(vals);
            }
        return r;
    }

    private static double ArgMax(double[] v) { int b = 0; for (int i = 1; i < v.Length; i++) if (v[i] > v[b]) b = i; return b; }
    private static double ArgMin(double[] v) { int b = 0; for (int i = 1; i < v.Length; i++) if (v[i] < v[b]) b = i; return b; }
    private static double Lse(double[] v) { double m = v.Max(); return m + Math.Log(v.Sum(x => Math.Exp(x - m))); }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void EveryReductionOverEveryDim(int dim)
    {
        long[] shape = [3, 50, 70];
        var (x, d) = F64(shape, 30, 5);
        Close(RefReduce(d, shape, dim, v => v.Sum()), Values(x.Sum(dim)), 1e-13, 1e-12, "sum");
        Close(RefReduce(d, shape, dim, v => v.Average()), Values(x.Mean(dim)), 1e-13, 1e-13, "mean");
        Close(RefReduce(d, shape, dim, v => v.Max()), Values(x.Max(dim)), 0, 0, "max");
        Close(RefReduce(d, shape, dim, v => v.Min()), Values(x.Min(dim)), 0, 0, "min");
        Close(RefReduce(d, shape, dim, ArgMax), Values(x.ArgMax(dim)), 0, 0, "argmax");
        Close(RefReduce(d, shape, dim, ArgMin), Values(x.ArgMin(dim)), 0, 0, "argmin");
        Close(RefReduce(d, shape, dim, Lse), Values(x.LogSumExp(dim)), 1e-13, 1e-13, "logsumexp");
        Assert.Equal(DType.Int64, x.ArgMax(dim).DType);
        var kept = x.Sum(dim, keepDim: true);
        Assert.Equal(1, kept.Shape[dim]);
        // strided input: the same reductions of a transposed view
        var t = x.Transpose(0, 2); // [70, 50, 3]
        var dt = new double[d.Length];
        for (int i = 0; i < 3; i++) for (int j = 0; j < 50; j++) for (int k = 0; k < 70; k++) dt[(k * 50 + j) * 3 + i] = d[(i * 50 + j) * 70 + k];
        Close(RefReduce(dt, [70, 50, 3], dim, v => v.Sum()), Values(t.Sum(dim)), 1e-13, 1e-12, "sum transposed");
    }

    [Fact]
    public void Float32LargeMultithreadedSumAndMean()
    {
        long[] shape = [64, 5000];
        var (x, d) = F32(shape, 31);
        Close(RefReduce(d, shape, 0, v => v.Sum()), Values(x.Sum(0)), 1e-5, 1e-5, "sum dim0");
        Close(RefReduce(d, shape, 1, v => v.Average()), Values(x.Mean(1)), 1e-5, 1e-6, "mean dim1");
        Assert.Equal(d.Sum(), x.Sum().Item<float>(), 1e-1);
    }

    [Fact]
    public void IntegerAndBoolReductions()
    {
        var i = Tensor.FromArray([3, -1, 7, 2, 2, 9], 2, 3);
        Assert.Equal(DType.Int64, i.Sum(1).DType);
        Assert.Equal([9L, 13], i.Sum(1).ToArray<long>());
        Assert.Equal([7, 9], i.Max(1).ToArray<int>());
        Assert.Equal([2, -1, 7], i.Min(0).ToArray<int>());
        Assert.Equal([2L, 2], i.ArgMax(1).ToArray<long>());
        Assert.Equal([1L, 0, 0], i.ArgMin(0).ToArray<long>());
        var b = Tensor.FromArray([true, false, true, true], 2, 2);
        Assert.Equal([2L, 1], b.Sum(0).ToArray<long>());
        Assert.Equal([true, true], b.Max(1).ToArray<bool>());
        Assert.Equal([false, true], b.Min(1).ToArray<bool>());
        Assert.Equal(3L, b.Sum().Item<long>());
    }

    [Fact]
    public void CumSumOverEachDimAndDtype()
    {
        long[] shape = [4, 6, 5];
        var (x, d) = F64(shape, 32);
        for (int dim = 0; dim < 3; dim++)
        {
            var expected = new double[d.Length];
            long outer = 1, inner = 1, n = shape[dim];
            for (int k = 0; k < dim; k++) outer *= shape[k];
            for (int k = dim + 1; k < 3; k++) inner *= shape[k];
            for (long o = 0; o < outer; o++) for (long j = 0; j < inner; j++)
                {
                    double acc = 0;
                    for (long k = 0; k < n; k++) { long at = (o * n + k) * inner + j; acc += d[at]; expected[at] = acc; }
                }
            Close(expected, Values(x.CumSum(dim)), 1e-14, 1e-14, $"cumsum {dim}");
        }
        Assert.Equal([1L, 1, 2], Tensor.FromArray([true, false, true]).CumSum(0).ToArray<long>());
        Assert.Equal([5L, 3, 10], Tensor.FromArray([5L, -2, 7]).CumSum(0).ToArray<long>());
    }
}
