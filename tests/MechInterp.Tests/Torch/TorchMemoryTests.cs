using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Torch;

/// <summary>Runs alone (after the parallel tests), so process-wide measurements such as RSS see only its own work.</summary>
[CollectionDefinition("Isolated", DisableParallelization = true)]
public sealed class IsolatedCollection;

/// <summary>Native memory is released deterministically: a long training loop on libtorch keeps RSS flat.</summary>
[Collection("Isolated")]
public class TorchMemoryTests(ITestOutputHelper output)
{
    private static long RssKiB()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim());
        throw new InvalidOperationException("VmRSS not found in /proc/self/status");
    }

    [Fact]
    public void TenThousandForwardBackwardStepsKeepRssFlat()
    {
        if (!OperatingSystem.IsLinux()) return;
        var d = Device.TorchCpu;
        var g = new Generator(7);
        using var w1 = Tensor.Randn([16, 32], g, std: 0.2, device: d).DetachFromScopes().RequiresGrad_();
        using var b1 = Tensor.Zeros([32], device: d).DetachFromScopes().RequiresGrad_();
        using var w2 = Tensor.Randn([32, 4], g, std: 0.2, device: d).DetachFromScopes().RequiresGrad_();
        using var x = Tensor.Randn([8, 16], g, device: d).DetachFromScopes();
        using var y = Tensor.RandInt(0, 4, [8], g, d).DetachFromScopes();
        Tensor[] parameters = [w1, b1, w2];

        void Step()
        {
            using var scope = Tensor.Scope();
            var logits = (x.MatMul(w1) + b1).Relu().MatMul(w2);
            var loss = Tensor.CrossEntropy(logits, y);
            loss.Backward();
            using (GradMode.NoGrad())
                foreach (var p in parameters) p.ZeroGrad();
        }

        for (int i = 0; i < 1000; i++) Step();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long warm = RssKiB();
        for (int i = 0; i < 9000; i++) Step();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long end = RssKiB();
        output.WriteLine($"RSS after warm-up {warm} KiB, after 10,000 steps {end} KiB ({100.0 * (end - warm) / warm:F2}%)");
        Assert.True(end <= warm * 1.05, $"RSS grew from {warm} KiB to {end} KiB over 9,000 steps: native tensors are leaking");
    }
}
