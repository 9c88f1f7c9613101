using MechInterp.Backends.Cpu;
using MechInterp.Backends.Cpu.Kernels;
using MechInterp.Tests.Models;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary><see cref="ManagedCpuOptions.PrepackWeights"/> off: weights are neither packed nor read from packs, with the
/// same products; <see cref="ManagedCpuOptions.PrepackMemoryBudget"/>: packs that add a second copy stay within it, packs
/// of clean memory-mapped weights do not count, and dropped packs give their bytes back. Isolated: the settings are
/// process-wide and other tests count packs.</summary>
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

    [Fact]
    public void PacksThatAddACopyStayWithinTheBudgetAndRefundWhenDropped()
    {
        using var scope = Tensor.Scope();
        var first = new Parameter("a", Tensor.Randn([64, 96], new Generator(50)));
        var second = new Parameter("b", Tensor.Randn([64, 96], new Generator(51)));
        var x = Tensor.Randn([24, 64], new Generator(52));
        long one = PackedPanels.BytesFor(64, 96, Gemm.PanelWidth);
        long saved = ManagedCpuOptions.PrepackMemoryBudget;
        try
        {
            // Earlier tests' weights that were never disposed give their charges back in finalizers: let them run now,
            // not in the middle of the count.
            for (int i = 0; i < 2; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
            ManagedCpuOptions.PrepackMemoryBudget = PackBudget.Charged + one; // room for exactly one pack
            foreach (var p in new[] { first, second })
            {
                var reference = x.MatMul(p.Value.Clone()).ToArray<float>();
                for (int i = 0; i < 3; i++) Assert.Equal(reference, x.MatMul(p.Value).ToArray<float>());
            }
            Assert.Equal(one, PackedBytes(first.Value));
            Assert.Equal(0, PackedBytes(second.Value)); // over budget: packed on the fly, same bits
            long charged = PackBudget.Charged;

            first.Value.CopyInPlace(Tensor.Randn([64, 96], new Generator(53))); // drops first's pack: its bytes come back
            Assert.Equal(charged - one, PackBudget.Charged);
            for (int i = 0; i < 3; i++) x.MatMul(second.Value);
            Assert.Equal(one, PackedBytes(second.Value));
        }
        finally
        {
            ManagedCpuOptions.PrepackMemoryBudget = saved;
        }
    }

    [Fact]
    public void CleanMappedWeightsArePackedWithNoBudget()
    {
        long saved = ManagedCpuOptions.PrepackMemoryBudget;
        try
        {
            ManagedCpuOptions.PrepackMemoryBudget = 0;
            using var r = new FixtureReference("gpt2-tiny");
            using var model = HookedTransformer.FromPretrained(r.Directory);
            var tokens = r.Tensor("input_ids");
            for (int i = 0; i < 3; i++) model.Forward(tokens).Dispose();
            var w_in = model.Blocks[0].Mlp!.W_in.Value;
            Assert.True(((CpuHandle)w_in.Handle).Storage.IsMapped);
            Assert.True(PackedBytes(w_in) > 0, "a clean mapped weight is packed with no budget at all: it is not charged");
        }
        finally
        {
            ManagedCpuOptions.PrepackMemoryBudget = saved;
        }
    }
}
