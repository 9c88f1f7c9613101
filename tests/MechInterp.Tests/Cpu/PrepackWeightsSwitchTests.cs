using MechInterp.Backends.Cpu;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary><see cref="ManagedCpuOptions.PrepackWeights"/> off: weights are neither packed nor read from packs, with the
/// same products. Isolated: the switch is process-wide and other tests count packs.</summary>
[Collection("Isolated")]
public sealed class PrepackWeightsSwitchTests
{
    private static long PackedBytes(Tensor t) => ((CpuHandle)t.Handle).Storage.Packs?.Bytes ?? 0;

    [Fact]
    public void TurningPrepackingOffStopsMakingAndUsingPacks()
    {
        using var scope = Tensor.Scope();
        var p = new Parameter("w", Tensor.Randn([64, 96], new Generator(40)));
        var x = Tensor.Randn([24, 64], new Generator(41));
        var reference = x.MatMul(p.Value.Clone()).ToArray<float>();
        try
        {
            ManagedCpuOptions.PrepackWeights = false;
            for (int i = 0; i < 3; i++) Assert.Equal(reference, x.MatMul(p.Value).ToArray<float>());
            Assert.Equal(0, PackedBytes(p.Value));
        }
        finally
        {
            ManagedCpuOptions.PrepackWeights = true;
        }
        for (int i = 0; i < 3; i++) Assert.Equal(reference, x.MatMul(p.Value).ToArray<float>());
        Assert.True(PackedBytes(p.Value) > 0);
    }
}
