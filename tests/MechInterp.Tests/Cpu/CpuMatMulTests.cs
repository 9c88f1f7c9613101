using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>MatMul through the CPU backend: batches, broadcast (stride-0) batches and transposed views.</summary>
public sealed class CpuMatMulTests
{
    private static double[] RefMatMul(double[] a, double[] b, long batch, long m, long k, long n, bool aBroadcast = false, bool bBroadcast = false)
    {
        var r = new double[batch * m * n];
        for (long t = 0; t < batch; t++)
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++)
                {
                    double s = 0;
                    for (long p = 0; p < k; p++)
                        s += a[(aBroadcast ? 0 : t * m * k) + i * k + p] * b[(bBroadcast ? 0 : t * k * n) + p * n + j];
                    r[(t * m + i) * n + j] = s;
                }
        return r;
    }

    [Fact]
    public void BatchedAndBroadcastAndTransposed()
    {
        var (a, da) = F64([3, 5, 7], 60);
        var (b, db) = F64([3, 7, 4], 61);
        Close(RefMatMul(da, db, 3, 5, 7, 4), Values(a.MatMul(b)), 1e-13, 1e-13, "batched");
        var (w, dw) = F64([7, 4], 62);
        Close(RefMatMul(da, dw, 3, 5, 7, 4, bBroadcast: true), Values(a.MatMul(w)), 1e-13, 1e-13, "broadcast b");
        // transposed views: (b^T)^T layouts, no copies needed
        var bt = Tensor.FromArray(Transpose(dw, 7, 4), 4, 7).T; // [7, 4] with column-major layout
        Close(RefMatMul(da, dw, 3, 5, 7, 4, bBroadcast: true), Values(a.MatMul(bt)), 1e-13, 1e-13, "b transposed view");
        var at = a.Transpose(1, 2).Contiguous().Transpose(1, 2); // same values, col-major matrices
        Close(RefMatMul(da, db, 3, 5, 7, 4), Values(at.MatMul(b)), 1e-13, 1e-13, "a transposed view");
        // narrowed with a step in both matrix dims: neither dim has unit stride, forcing a copy
        var (big, dbig) = F64([10, 14], 63);
        var sa = big.Slice(0, 0, 10, 2).Slice(1, 0, 14, 2); // [5, 7]
        var dsa = new double[35];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 7; j++) dsa[i * 7 + j] = dbig[2 * i * 14 + 2 * j];
        Close(RefMatMul(dsa, dw, 1, 5, 7, 4), Values(sa.MatMul(w)), 1e-13, 1e-13, "strided both");
    }

    [Fact]
    public void Float32ManySmallMatricesAndOneLarge()
    {
        var (q, dq) = F32([64, 8, 16], 64);
        var (k, dk) = F32([64, 16, 8], 65);
        Close(RefMatMul(dq, dk, 64, 8, 16, 8), Values(q.MatMul(k)), 1e-5, 1e-5, "many small");
        var (x, dx) = F32([130, 200], 66);
        var (y, dy) = F32([200, 90], 67);
        Close(RefMatMul(dx, dy, 1, 130, 200, 90), Values(x.MatMul(y)), 1e-5, 1e-4, "large");
        var v = Tensor.FromArray([1f, 2f]);
        Assert.Equal([7f, 10f], v.MatMul(Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2)).ToArray<float>());
        Assert.Equal(0, Tensor.Zeros([0, 3]).MatMul(Tensor.Zeros([3, 2])).NumElements);
        Assert.Equal([0f, 0f, 0f, 0f], Tensor.Zeros([2, 0]).MatMul(Tensor.Zeros([0, 2])).ToArray<float>());
    }
}
