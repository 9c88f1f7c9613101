using MechInterp.Tests.Hooks;
using MechInterp.Tests.Torch;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>The TransformerLens-style cache analyses give the same numbers on libtorch as on the managed backend.</summary>
public sealed class TorchCacheParityTests
{
    [Fact]
    public void FullDecompositionAndAttributionsMatchAcrossBackends()
    {
        var input = HookTestUtil.Input("gpt2-tiny");
        var managed = HookTestUtil.Shared("gpt2-tiny");
        var torch = HookTestUtil.Load("gpt2-tiny", new LoadOptions { Device = Device.TorchCpu });
        using var a = managed.RunWithCache(input).Cache;
        using var b = torch.RunWithCache(input.To(Device.TorchCpu)).Cache;
        var (stackA, labelsA) = a.GetFullResidDecomposition(posSlice: new[] { 3, -1 });
        var (stackB, labelsB) = b.GetFullResidDecomposition(posSlice: new[] { 3, -1 });
        Assert.Equal(labelsA, labelsB);
        ParityHarness.Compare("full decomposition", stackA, stackB.To(Device.Cpu));
        var answers = Tensor.FromArray(new long[] { 5, 9, 300, 17 }, 2, 2);
        ParityHarness.Compare("DLA of [batch, pos] answers", a.LogitAttrs(stackA, answers, posSlice: new[] { 3, -1 }),
            b.LogitAttrs(stackB, answers.To(Device.TorchCpu), posSlice: new[] { 3, -1 }).To(Device.Cpu));
        ParityHarness.Compare("neuron results", a.GetNeuronResults(-1, posSlice: -1), b.GetNeuronResults(-1, posSlice: -1).To(Device.Cpu));
        // Each single neuron's tiny vector is normalised by its own small variance: float32 rounding differences grow there.
        HookTestUtil.Close(b.ApplyLnToStack(stackB, recomputeLn: true).To(Device.Cpu), a.ApplyLnToStack(stackA, recomputeLn: true), 1e-4, "recomputed ln");
    }
}
