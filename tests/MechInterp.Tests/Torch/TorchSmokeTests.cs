using Xunit;

namespace MechInterp.Tests.Torch;

public class TorchSmokeTests
{
    [Fact]
    public void CreatesATorchTensorAndReadsItBack()
    {
        using var t = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3], DType.Float32, Device.TorchCpu);
        Assert.Equal(Device.TorchCpu, t.Device);
        Assert.Equal(new long[] { 2, 3 }, t.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, t.ToArray<float>());
    }
}
