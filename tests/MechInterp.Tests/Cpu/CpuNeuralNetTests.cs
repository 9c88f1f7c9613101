using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>Softmax, log-softmax, LayerNorm and RmsNorm against float64 references.</summary>
public sealed class CpuNeuralNetTests
{
    private static double[] RefSoftmaxRows(double[] d, long cols, bool log)
    {
        var r = new double[d.Length];
        for (long s = 0; s < d.Length; s += cols)
        {
            double m = double.NegativeInfinity;
            for (long j = 0; j < cols; j++) m = Math.Max(m, d[s + j]);
            double sum = 0;
            for (long j = 0; j < cols; j++) sum += Math.Exp(d[s + j] - m);
            for (long j = 0; j < cols; j++) r[s + j] = log ? d[s + j] - m - Math.Log(sum) : Math.Exp(d[s + j] - m) / sum;
        }
        return r;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SoftmaxIsStableForLargeLogits(bool log)
    {
        foreach (long cols in new long[] { 1, 7, 16, 33, 1000 })
        {
            var (x, d) = F32([9, cols], 40, 3000); // logits up to ±3000: exp overflows without the max shift
            Close(RefSoftmaxRows(d, cols, log), Values(log ? x.LogSoftmax(-1) : x.Softmax(-1)), 2e-5, 1e-6, $"cols={cols}");
            var (x64, d64) = F64([9, cols], 41, 3000);
            Close(RefSoftmaxRows(d64, cols, log), Values(log ? x64.LogSoftmax(-1) : x64.Softmax(-1)), 1e-12, 1e-14, $"f64 cols={cols}");
        }
        var masked = Tensor.FromArray([0f, float.NegativeInfinity, 1f]).Softmax();
        Close([1 / (1 + Math.E), 0, Math.E / (1 + Math.E)], Values(masked), 1e-6, 1e-7, "masked");
    }

    [Fact]
    public void SoftmaxOverNonLastDimAndMultithreaded()
    {
        var (x, d) = F32([5, 8, 3], 42, 10);
        var got = Values(x.Softmax(1));
        for (int i = 0; i < 5; i++) for (int k = 0; k < 3; k++)
            {
                var col = Enumerable.Range(0, 8).Select(j => d[(i * 8 + j) * 3 + k]).ToArray();
                var r = RefSoftmaxRows(col, 8, false);
                Close(r, Enumerable.Range(0, 8).Select(j => got[(i * 8 + j) * 3 + k]).ToArray(), 1e-5, 1e-7, "dim 1");
            }
        var (big, db) = F32([256, 1024], 43, 20);
        Close(RefSoftmaxRows(db, 1024, true), Values(big.LogSoftmax(-1)), 1e-5, 2e-5, "large");
        var (t, dt) = F32([30, 20], 44, 5); // transposed input
        Close(RefSoftmaxRows(Transpose(dt, 30, 20), 30, false), Values(t.T.Softmax(-1)), 2e-5, 1e-7, "transposed");
    }

    [Fact]
    public void LayerNormAndRmsNormMatchReference()
    {
        foreach (long cols in new long[] { 5, 16, 77, 768 })
        {
            long rows = cols == 768 ? 200 : 6;
            var (x, d) = F32([rows, cols], 45, 4);
            var (w, dw) = F32([cols], 46);
            var (b, dbias) = F32([cols], 47);
            var ln = new double[d.Length];
            var rms = new double[d.Length];
            for (long r = 0; r < rows; r++)
            {
                var row = d.Skip((int)(r * cols)).Take((int)cols).ToArray();
                double mean = row.Average(), var = row.Select(v => (v - mean) * (v - mean)).Average(), ms = row.Select(v => v * v).Average();
                for (long j = 0; j < cols; j++)
                {
                    ln[r * cols + j] = (row[j] - mean) / Math.Sqrt(var + 1e-5) * dw[j] + dbias[j];
                    rms[r * cols + j] = row[j] / Math.Sqrt(ms + 1e-6) * dw[j];
                }
            }
            Close(ln, Values(x.LayerNorm(w, b, 1e-5)), 1e-5, 1e-5, $"layernorm {cols}");
            Close(rms, Values(x.RmsNorm(w, 1e-6)), 1e-5, 1e-5, $"rmsnorm {cols}");
            var plain = Values(x.T.Contiguous().T.LayerNorm()); // strided input, no affine
            for (long r = 0; r < rows; r++) for (long j = 0; j < cols; j++)
                    Assert.True(Math.Abs((ln[r * cols + j] - dbias[j]) - plain[r * cols + j] * dw[j]) < 1e-5, $"plain layernorm {cols} [{r},{j}]");
        }
        var (x64, d64) = F64([3, 10], 48);
        var r64 = Values(x64.RmsNorm(null, 1e-6));
        for (int r = 0; r < 3; r++)
        {
            double ms = d64.Skip(r * 10).Take(10).Select(v => v * v).Average();
            for (int j = 0; j < 10; j++) Assert.True(Math.Abs(d64[r * 10 + j] / Math.Sqrt(ms + 1e-6) - r64[r * 10 + j]) < 1e-13);
        }
    }
}
