using MechInterp.Backends;
using MechInterp.Backends.Cpu;
using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>Storage sharing, reference counting, pooling and dtype round trips of the managed CPU backend.</summary>
public sealed class CpuStorageTests
{
    private static readonly IBackend B = CpuBackend.Instance;

    [Fact]
    public void ViewsShareStorageAndLastDisposeReturnsTheBuffer()
    {
        var h = (CpuHandle)B.Full([256, 256], DType.Float32, 3);
        var v = (CpuHandle)B.Permute(h, [1, 0]);
        var n = (CpuHandle)B.Narrow(v, 0, 10, 20, 3);
        Assert.Same(h.Storage, v.Storage);
        Assert.Same(h.Storage, n.Storage);
        h.Dispose();
        h.Dispose(); // idempotent: must not drop a second reference
        Assert.Equal(3f, ((float[])B.ToArray(n))[0]);
        v.Dispose();
        Assert.Equal(3f, ((float[])B.ToArray(n))[5]);
        n.Dispose();
        Assert.Throws<ObjectDisposedException>(() => n.Storage.Data);
    }

    [Fact]
    public void LargeBuffersAreReused()
    {
        var a = (CpuHandle)B.Full([100_003], DType.Float32, 1);
        var array = a.Storage.Data;
        Assert.True(array.Length >= 100_003);
        a.Dispose();
        var b = (CpuHandle)B.Full([100_001], DType.Float32, 2);
        Assert.Same(array, b.Storage.Data);
        Assert.All((float[])B.ToArray(b), v => Assert.Equal(2f, v));
        Assert.Equal(100_001, ((float[])B.ToArray(b)).Length);
        b.Dispose();
    }

    [Fact]
    public void RoundTripsEveryDType()
    {
        Assert.Equal([1.5f, -2f], Tensor.FromArray([1.5f, -2f]).ToArray<float>());
        Assert.Equal([1.5, -2e300], Tensor.FromArray([1.5, -2e300]).ToArray<double>());
        Assert.Equal([long.MaxValue, -1L], Tensor.FromArray([long.MaxValue, -1L]).ToArray<long>());
        Assert.Equal([int.MinValue, 7], Tensor.FromArray([int.MinValue, 7]).ToArray<int>());
        Assert.Equal([true, false, true], Tensor.FromArray([true, false, true]).ToArray<bool>());
        Assert.Equal(new byte[] { 0, 255, 9 }, Tensor.FromArray(new byte[] { 0, 255, 9 }, [3], DType.UInt8, Device.Cpu).ToArray<byte>());
        Assert.Equal([(Half)1.5, (Half)(-3)], Tensor.FromArray(new[] { (Half)1.5, (Half)(-3) }, [2], DType.Float16, Device.Cpu).ToArray<Half>());
        var bf = Tensor.FromArray(new ushort[] { 0x3FC0, 0xC040 }, [2], DType.BFloat16, Device.Cpu);
        Assert.Equal([1.5f, -3f], bf.ToArray<float>());
    }

    [Fact]
    public void CastTruncatesFloatsTowardZeroAndMapsBools()
    {
        var x = Tensor.FromArray([2.7f, -2.7f, 0.2f, -0.9f, 0f]);
        Assert.Equal([2L, -2, 0, 0, 0], x.To(DType.Int64).ToArray<long>());
        Assert.Equal([2, -2, 0, 0, 0], x.To(DType.Int32).ToArray<int>());
        Assert.Equal([true, true, true, true, false], x.To(DType.Bool).ToArray<bool>());
        Assert.Equal([1.0, 0.0, 1.0], Tensor.FromArray([true, false, true]).To(DType.Float64).ToArray<double>());
        Assert.Equal([3L, 0, 1], Tensor.FromArray([3, 0, 1]).To(DType.Int64).ToArray<long>());
        Assert.Equal(new byte[] { 1, 0, 1 }, Tensor.FromArray([true, false, true]).To(DType.UInt8).ToArray<byte>());
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        // 1 + 2^-8 is exactly half-way between 1 and 1 + 2^-7: ties to even (1.0). 1 + 3*2^-8 ties up to 1 + 2^-6.
        float tie = 1f + MathF.Pow(2, -8), tieUp = 1f + 3 * MathF.Pow(2, -8), above = 1f + MathF.Pow(2, -8) + MathF.Pow(2, -12);
        var t = Tensor.FromArray([tie, tieUp, above, -0f, float.PositiveInfinity]).To(DType.BFloat16);
        var back = t.To(DType.Float32).ToArray<float>();
        Assert.Equal([1f, 1f + MathF.Pow(2, -6), 1f + MathF.Pow(2, -7), -0f, float.PositiveInfinity], back);
        var nan = Tensor.FromArray([float.NaN]).To(DType.BFloat16).To(DType.Float32).Item<float>();
        Assert.True(float.IsNaN(nan));
        var half = Tensor.FromArray([1.0009765625f, 65504f]).To(DType.Float16).To(DType.Float64).ToArray<double>();
        Assert.Equal([1.0009765625, 65504.0], half);
    }

    [Fact]
    public void FullFillsEveryDType()
    {
        Assert.All(Tensor.Full([3, 2], 2.5, DType.Float64).ToArray<double>(), v => Assert.Equal(2.5, v));
        Assert.All(Tensor.Full([4], -3.9, DType.Int64).ToArray<long>(), v => Assert.Equal(-3L, v));
        Assert.All(Tensor.Full([4], 1, DType.Bool).ToArray<bool>(), Assert.True);
        Assert.All(Tensor.Full([2], 1.5, DType.BFloat16).ToArray<float>(), v => Assert.Equal(1.5f, v));
        Assert.Equal(0, Tensor.Zeros([0, 3]).NumElements);
    }

    [Fact]
    public void HalfAndBFloat16SupportViewsContiguousAndConcat()
    {
        var data = RandomData(12, 1).Select(v => (Half)v).ToArray();
        var h = Tensor.FromArray(data, [3, 4], DType.Float16, Device.Cpu);
        var t = h.T.Contiguous().ToArray<Half>();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++) Assert.Equal(data[i * 4 + j], t[j * 3 + i]);
        var bf = h.To(DType.BFloat16);
        var cat = Tensor.Concat([bf, bf.Narrow(0, 1, 1)], 0);
        Assert.Equal([4L, 4], cat.Shape);
        var vals = cat.To(DType.Float32).ToArray<float>();
        for (int j = 0; j < 4; j++) Assert.Equal((float)data[4 + j], vals[12 + j], 2);
        Assert.Throws<NotSupportedException>(() => h.Exp());
    }
}
