using MechInterp.Backends.Cpu;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>Reshaping a non-contiguous tensor copies it; the result must be the copy's only holder, so disposing the
/// result releases the buffer (a leaked reference kept every such buffer out of the pool until the GC took it).</summary>
public sealed class ReshapeReleaseTests
{
    [Fact]
    public void TheCopyMadeByAReshapeIsReleasedWithTheResult()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([64, 256], new Generator(4)).Permute(1, 0); // non-contiguous view
        Assert.False(x.IsContiguous);
        var y = x.Reshape(-1);
        Assert.Equal(x.Contiguous().ToArray<float>(), y.ToArray<float>());
        var storage = ((CpuHandle)y.Handle).Storage;
        Assert.NotSame(((CpuHandle)x.Handle).Storage, storage);
        Assert.Equal(1, storage.RefCount);
        y.Dispose();
        Assert.Equal(0, storage.RefCount);
        Assert.Throws<ObjectDisposedException>(() => storage.Span<float>());
    }

    [Fact]
    public void AContiguousReshapeSharesTheStorage()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([64, 256], new Generator(4));
        var y = x.Reshape(256, 64);
        var storage = ((CpuHandle)x.Handle).Storage;
        Assert.Same(storage, ((CpuHandle)y.Handle).Storage);
        Assert.Equal(2, storage.RefCount);
        y.Dispose();
        Assert.Equal(1, storage.RefCount);
    }
}
