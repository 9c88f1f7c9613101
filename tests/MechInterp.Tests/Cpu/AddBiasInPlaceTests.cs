using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>The in-place bias add used by inference Linear layers against the out-of-place broadcast add, on both
/// backends; and its refusal to drop a gradient.</summary>
public sealed class AddBiasInPlaceTests
{
    [Theory]
    [InlineData("cpu", DType.Float32)]
    [InlineData("cpu", DType.Float64)]
    [InlineData("torch-cpu", DType.Float32)]
    public void EqualsTheBroadcastAdd(string device, DType dtype)
    {
        using var scope = Tensor.Scope();
        var d = Device.Parse(device);
        var x = Tensor.Randn([3, 5, 37], new Generator(31), dtype: dtype).To(d);
        var b = Tensor.Randn([37], new Generator(32), dtype: dtype).To(d);
        var expected = (x + b).To(Device.Cpu).ToArray<double>();
        var y = x.Clone();
        Assert.Same(y, y.AddBiasInPlace(b));
        Assert.Equal(expected, y.To(Device.Cpu).ToArray<double>());
    }

    [Fact]
    public void RefusesToDropAGradient()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([2, 4], new Generator(1));
        var b = Tensor.Randn([4], new Generator(2)).RequiresGrad_();
        Assert.Throws<InvalidOperationException>(() => x.AddBiasInPlace(b));
        Assert.Throws<ArgumentException>(() => x.Permute(1, 0).AddBiasInPlace(Tensor.Zeros([2])));
    }
}
