using MechInterp.Backends;
using Xunit;
using Xunit.Sdk;

namespace MechInterp.Tests.Torch;

/// <summary>The Torch backend against hand-computed values (independent of the managed backend).</summary>
public class TorchReferenceTests
{
    private static readonly Device D = Device.TorchCpu;

    private static Tensor F(float[] v, params long[] shape) => Tensor.FromArray(v, shape.Length == 0 ? [v.Length] : shape, DType.Float32, D);

    private static void Close(double[] expected, Tensor actual, double rel = 1e-6, double abs = 1e-6) =>
        ParityHarness.AssertClose("torch", expected, actual.ToArray<double>(), rel, abs);

    [Fact]
    public void GeluExactAndTanhDiffer()
    {
        using var scope = Tensor.Scope();
        var x = F([-1f, 0f, 1f, 2f]);
        // x * Phi(x): Phi(1) = 0.8413447460685429, Phi(2) = 0.9772498680518208.
        Close([-0.15865525393145707, 0, 0.8413447460685429, 1.9544997361036416], x.Gelu());
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
        double T(double v) => 0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        Close([T(-1), 0, T(1), T(2)], x.GeluTanh());
    }

    [Fact]
    public void SoftmaxIsStableForHugeLogits()
    {
        using var scope = Tensor.Scope();
        Close([0.09003057317038046, 0.24472847105479764, 0.6652409557748219], F([1f, 2f, 3f]).Softmax());
        Close([0.09003057317038046, 0.24472847105479764, 0.6652409557748219], F([1001f, 1002f, 1003f]).Softmax());
        Close([-2.40760596444438, -1.40760596444438, -0.40760596444438], F([1001f, 1002f, 1003f]).LogSoftmax());
    }

    [Fact]
    public void LayerNormUsesBiasedVarianceAndRmsNormTheMeanSquare()
    {
        using var scope = Tensor.Scope();
        // mean 2, biased variance 2/3.
        double s = 1 / Math.Sqrt(2.0 / 3 + 1e-5);
        Close([-s * 2 + 1, 0 * 2 + 1, s * 2 + 1], F([1f, 2f, 3f]).LayerNorm(F([2f, 2f, 2f]), F([1f, 1f, 1f]), 1e-5), 1e-5);
        // mean(x^2) = 14/3.
        double r = 1 / Math.Sqrt(14.0 / 3 + 1e-6);
        Close([1 * r * 0.5, 2 * r * 1, 3 * r * 2], F([1f, 2f, 3f]).RmsNorm(F([0.5f, 1f, 2f]), 1e-6), 1e-5);
    }

    [Fact]
    public void IntegerDivisionTruncatesTowardZero()
    {
        using var scope = Tensor.Scope();
        var a = Tensor.FromArray(new long[] { -7, 7, -8, 9 }, [4], DType.Int64, D);
        var b = Tensor.FromArray(new long[] { 2, -2, 3, 4 }, [4], DType.Int64, D);
        Assert.Equal(new long[] { -3, -3, -2, 2 }, (a / b).ToArray<long>());
        Assert.Equal(new long[] { -3, 3, -4, 4 }, (a / 2.0).ToArray<long>());
    }

    [Fact]
    public void SortIsStableAndComparisonsGiveBool()
    {
        using var scope = Tensor.Scope();
        var x = F([2f, 1f, 2f, 1f, 0f]);
        var (v, i) = x.Sort();
        Assert.Equal(new float[] { 0, 1, 1, 2, 2 }, v.ToArray<float>());
        Assert.Equal(new long[] { 4, 1, 3, 0, 2 }, i.ToArray<long>());
        var (_, id) = x.Sort(descending: true);
        Assert.Equal(new long[] { 0, 2, 1, 3, 4 }, id.ToArray<long>());
        var lt = x < 1.5;
        Assert.Equal(DType.Bool, lt.DType);
        Assert.Equal(new[] { false, true, false, true, true }, lt.ToArray<bool>());
    }

    [Fact]
    public void ViewsShareStorage()
    {
        using var scope = Tensor.Scope();
        var x = F([0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f]);
        Assert.Equal(new float[] { 1, 4, 7 }, x.Slice(0, 1, 9, 3).ToArray<float>());
        Assert.Equal(new float[] { 2, 5, 8 }, x.Slice(0, 2, 10, 3).ToArray<float>());
        var e = F([1f, 2f], 2, 1).Expand(2, 3);
        Assert.False(e.IsContiguous);
        Assert.Equal(new float[] { 1, 1, 1, 2, 2, 2 }, e.ToArray<float>());
        var t = F([1f, 2f, 3f, 4f, 5f, 6f], 2, 3).T;
        Assert.False(t.IsContiguous);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, t.ToArray<float>());
        var c = t.Contiguous();
        Assert.True(c.IsContiguous);
    }

    [Fact]
    public void MatMulShapeMismatchThrowsInsteadOfAborting()
    {
        using var scope = Tensor.Scope();
        var a = F(new float[6], 2, 3);
        var b = F(new float[8], 4, 2);
        var backend = BackendRegistry.Get(D);
        var e = Assert.Throws<ArgumentException>(() => backend.MatMul(a.Handle, b.Handle));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[4, 2]", e.Message);
        var batched = F(new float[12], 2, 2, 3);
        var other = F(new float[18], 3, 3, 2);
        Assert.Throws<ArgumentException>(() => backend.MatMul(batched.Handle, other.Handle));
        Assert.Equal(new float[] { 22, 28, 49, 64 },
            F([1f, 2f, 3f, 4f, 5f, 6f], 2, 3).MatMul(F([1f, 2f, 3f, 4f, 5f, 6f], 3, 2)).ToArray<float>());
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float16)]
    [InlineData(DType.BFloat16)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.UInt8)]
    [InlineData(DType.Bool)]
    public void EveryDTypeRoundTripsThroughTheBoundary(DType dtype)
    {
        using var scope = Tensor.Scope();
        Array data = dtype switch
        {
            DType.Float32 => new float[] { 1.5f, -2f, 0f, 3.25f },
            DType.Float64 => new double[] { 1.5, -2, 0, 3.25 },
            DType.Float16 => new Half[] { (Half)1.5f, (Half)(-2f), (Half)0f, (Half)3.25f },
            DType.BFloat16 => new ushort[] { 0x3FC0, 0xC000, 0x0000, 0x4050 }, // 1.5, -2, 0, 3.25
            DType.Int64 => new long[] { 1, -2, 0, long.MaxValue },
            DType.Int32 => new int[] { 1, -2, 0, int.MinValue },
            DType.UInt8 => new byte[] { 1, 2, 0, 255 },
            _ => new bool[] { true, false, false, true },
        };
        var t = Tensor.FromArray(data, [2, 2], dtype, D);
        Assert.Equal(dtype, t.DType);
        Assert.Equal(data, BackendRegistry.Get(D).ToArray(t.Handle));
        if (dtype.IsFloatingPoint())
            Assert.Equal(new double[] { 1.5, -2, 0, 3.25 }, t.To(DType.Float64).ToArray<double>());
        // A non-contiguous view reads back in row-major order of the view.
        Assert.Equal(4, BackendRegistry.Get(D).ToArray(t.T.Handle).Length);
    }

    [Fact]
    public void ChunkedTransferMatchesSingleCopy()
    {
        using var scope = Tensor.Scope();
        var values = Enumerable.Range(0, 1000).Select(i => (float)i * 0.5f).ToArray();
        var t = Tensor.Zeros([1000], DType.Float32, D);
        var native = ((MechInterp.Backends.Torch.TorchHandle)t.Handle).Tensor;
        MechInterp.Backends.Torch.TorchTransfer.Write<float>(native, values, chunk: 64);
        Assert.Equal(values, MechInterp.Backends.Torch.TorchTransfer.Read<float>(native, chunk: 77));
    }

    [Fact]
    public void TorchToTorchCopyUsesTheCrossDeviceCopy()
    {
        using var scope = Tensor.Scope();
        var x = F([1f, 2f, 3f]);
        var backend = (ICrossDeviceBackend)BackendRegistry.Get(D);
        Assert.True(backend.TryCopyFrom(x.Handle, out var copy));
        using (copy) Assert.Equal(new float[] { 1, 2, 3 }, (float[])copy.Backend.ToArray(copy));
        Assert.Equal(new float[] { 1, 2, 3 }, x.To(Device.Cpu).To(D).ToArray<float>());
    }

    [Fact]
    public void HarnessDetectsADisagreement()
    {
        using var scope = Tensor.Scope();
        Assert.Throws<XunitException>(() => ParityHarness.Compare("self-check", F([1f, 2f]), F([1f, 2.001f])));
        ParityHarness.Compare("self-check", F([1f, 2f]), F([1f, 2.000001f]));
    }
}
