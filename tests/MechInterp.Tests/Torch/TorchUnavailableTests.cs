using MechInterp.Backends.Torch;
using Xunit;

namespace MechInterp.Tests.Torch;

/// <summary>The message of the exception thrown when libtorch cannot be used (built from simulated load failures,
/// since this test project does reference libtorch).</summary>
public class TorchUnavailableTests
{
    [Fact]
    public void MissingLibtorchNamesThePackageToAdd()
    {
        var inner = new TypeInitializationException("TorchSharp.torch",
            new NotSupportedException("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64"));
        var e = TorchUnavailableException.ForLoadFailure(Device.TorchCpu, inner, "libLibTorchSharp.so: libtorch_cpu.so: cannot open shared object file");
        Assert.Contains(TorchUnavailableException.CpuPackageForThisPlatform(), e.Message);
        Assert.Contains("TorchSharp-cpu", e.Message);
        Assert.Contains("Device.Cpu", e.Message);
        Assert.DoesNotContain("GLIBCXX", e.Message);
        Assert.Same(inner, e.InnerException);
        Assert.Equal(Device.TorchCpu, e.RequestedDevice);
    }

    [Fact]
    public void GlibcxxLoadErrorExplainsTheElfFix()
    {
        var inner = new TypeInitializationException("TorchSharp.torch", new NotSupportedException("doesn't contain a reference to libtorch-cpu-linux-x64"));
        var dl = new DllNotFoundException("/app/libLibTorchSharp.so: /lib/x86_64-linux-gnu/libstdc++.so.6: version `GLIBCXX_3.4.32' not found");
        var e = TorchUnavailableException.ForLoadFailure(Device.TorchCpu, inner, dl.Message);
        Assert.Contains("GLIBCXX_3.4.32", e.Message);
        Assert.Contains("MechInterpPatchLibTorchSharp", e.Message);
        Assert.Contains("weak", e.Message);
        Assert.Equal(dl.Message, e.NativeLoadError);
    }

    [Fact]
    public void CudaFailuresNameTheCudaPackage()
    {
        var e = TorchUnavailableException.ForLoadFailure(Device.Cuda(0), new DllNotFoundException("libtorch_cuda.so not found"), null);
        Assert.Contains("libtorch-cuda-12.8-", e.Message);
        var none = TorchUnavailableException.ForMissingCuda(Device.Cuda(0), 0);
        Assert.Contains("no CUDA device", none.Message);
        Assert.Contains("libtorch-cuda-12.8-", none.Message);
        var outOfRange = TorchUnavailableException.ForMissingCuda(Device.Cuda(3), 2);
        Assert.Contains("cuda:0..cuda:1", outOfRange.Message);
    }

    [Fact]
    public void CudaWithoutAGpuThrowsTheSpecificException()
    {
        if (Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES") is not null) return;
        try
        {
            using var t = Tensor.Zeros([2], device: Device.Cuda(0));
            Assert.Equal(Device.Cuda(0), t.Device); // a machine with CUDA and libtorch-cuda
        }
        catch (TorchUnavailableException e)
        {
            Assert.Contains("CUDA", e.Message);
        }
    }

    [Fact]
    public void ThreadSettingIsValidated()
    {
        Assert.Null(TorchRuntime.ParseThreads(null, TorchRuntime.ThreadsVariable));
        Assert.Null(TorchRuntime.ParseThreads(" ", TorchRuntime.ThreadsVariable));
        Assert.Equal(2, TorchRuntime.ParseThreads("2", TorchRuntime.ThreadsVariable));
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.ParseThreads("many", TorchRuntime.ThreadsVariable));
        Assert.Contains("MECHINTERP_TORCH_THREADS", e.Message);
        Assert.Throws<ArgumentException>(() => TorchRuntime.ParseThreads("0", TorchRuntime.ThreadsVariable));
    }
}
