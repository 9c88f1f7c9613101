using MechInterp.Backends.Cpu;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// The managed backend's prepacked weights at the tensor level: a float32 weight (a <see cref="Parameter"/>'s value) is
/// packed on its second unchanged use by a blocked GEMM, every product equals the same product with an unmarked copy
/// of the weight bit for bit, and any in-place write drops the packs so later products see the new values.
/// </summary>
public sealed class PackedWeightCacheTests
{
    private static CpuStorage StorageOf(Tensor t) => ((CpuHandle)t.Handle).Storage;

    private static long PackedBytes(Tensor t) => StorageOf(t).Packs?.Bytes ?? 0;

    private static void AssertSameBits(Tensor expected, Tensor actual) =>
        Assert.Equal(expected.ToArray<float>(), actual.ToArray<float>());

    [Fact]
    public void AParameterIsPackedOnItsSecondUseAndGivesTheSameBits()
    {
        using var scope = Tensor.Scope();
        var p = new Parameter("w", Tensor.Randn([300, 70], new Generator(1)));
        var x = Tensor.Randn([40, 300], new Generator(2));
        var reference = x.MatMul(p.Value.Clone());
        Assert.Null(StorageOf(reference).Packs);

        AssertSameBits(reference, x.MatMul(p.Value));
        Assert.Equal(0, PackedBytes(p.Value)); // a first use only records the view
        AssertSameBits(reference, x.MatMul(p.Value));
        long packed = PackedBytes(p.Value);
        Assert.True(packed >= 300L * 70 * sizeof(float), $"expected a pack of the 300x70 weight, got {packed} bytes");
        AssertSameBits(reference, x.MatMul(p.Value));
        Assert.Equal(packed, PackedBytes(p.Value)); // reused, not rebuilt
    }

    [Fact]
    public void AnInPlaceWriteDropsThePacksAndLaterProductsSeeTheNewValues()
    {
        using var scope = Tensor.Scope();
        var p = new Parameter("w", Tensor.Randn([96, 130], new Generator(3)));
        var x = Tensor.Randn([20, 96], new Generator(4));
        x.MatMul(p.Value);
        x.MatMul(p.Value);
        Assert.True(PackedBytes(p.Value) > 0);
        int version = StorageOf(p.Value).Version;

        var replacement = Tensor.Randn([96, 130], new Generator(5));
        p.Value.CopyInPlace(replacement);
        Assert.Equal(version + 1, StorageOf(p.Value).Version);
        Assert.Equal(0, PackedBytes(p.Value));
        for (int i = 0; i < 3; i++) AssertSameBits(x.MatMul(replacement), x.MatMul(p.Value));

        // A write into a view (one column block) invalidates the packs of every view of the storage.
        var block = p.Value.Narrow(1, 64, 32);
        block.CopyInPlace(Tensor.Zeros([96, 32]));
        Assert.Equal(0, PackedBytes(p.Value));
        var expected = replacement.Clone();
        expected.Narrow(1, 64, 32).CopyInPlace(Tensor.Zeros([96, 32]));
        for (int i = 0; i < 3; i++) AssertSameBits(x.MatMul(expected), x.MatMul(p.Value));
    }

    [Fact]
    public void EachViewOfAWeightHasItsOwnPack()
    {
        using var scope = Tensor.Scope();
        var p = new Parameter("w", Tensor.Randn([128, 384], new Generator(6)));
        var x = Tensor.Randn([33, 128], new Generator(7));
        var xt = Tensor.Randn([12, 384], new Generator(8));
        var plain = p.Value.Clone();
        for (int i = 0; i < 3; i++)
        {
            // Three column blocks (a fused q|k|v) and the transpose (a tied unembedding) of one storage.
            for (int h = 0; h < 3; h++) AssertSameBits(x.MatMul(plain.Narrow(1, 128 * h, 128)), x.MatMul(p.Value.Narrow(1, 128 * h, 128)));
            AssertSameBits(xt.MatMul(plain.T), xt.MatMul(p.Value.T));
        }
        Assert.True(PackedBytes(p.Value) >= 2L * 128 * 384 * sizeof(float), "three column blocks plus the transpose");
    }

    [Fact]
    public void FewRowProductsReadAnExistingPackWithoutChangingIt()
    {
        using var scope = Tensor.Scope();
        var p = new Parameter("w", Tensor.Randn([256, 200], new Generator(30)));
        var prefill = Tensor.Randn([16, 256], new Generator(31));
        prefill.MatMul(p.Value);
        prefill.MatMul(p.Value);
        long packed = PackedBytes(p.Value);
        Assert.True(packed > 0);
        var step = Tensor.Randn([1, 256], new Generator(32));
        var expected = step.To(DType.Float64).MatMul(p.Value.To(DType.Float64)).ToArray<double>();
        var actual = step.MatMul(p.Value).ToArray<float>();
        for (int j = 0; j < expected.Length; j++) Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-4, $"column {j}: {expected[j]} vs {actual[j]}");
        Assert.Equal(packed, PackedBytes(p.Value));
    }

    [Fact]
    public void ChangingWeightsAndFewRowProductsAreNeverPacked()
    {
        using var scope = Tensor.Scope();
        var p = new Parameter("w", Tensor.Randn([64, 64], new Generator(9)));
        var decode = Tensor.Randn([3, 64], new Generator(10));
        for (int i = 0; i < 3; i++) decode.MatMul(p.Value);
        Assert.Equal(0, PackedBytes(p.Value)); // ≤ 4 rows stream B in place: nothing to pack

        var x = Tensor.Randn([16, 64], new Generator(11));
        for (int i = 0; i < 4; i++)
        {
            x.MatMul(p.Value);
            p.Value.CopyInPlace(Tensor.Randn([64, 64], new Generator((ulong)(12 + i)))); // a training step between uses
            Assert.Equal(0, PackedBytes(p.Value));
        }

        var activation = Tensor.Randn([64, 64], new Generator(20));
        for (int i = 0; i < 3; i++) x.MatMul(activation);
        Assert.Null(StorageOf(activation).Packs);

        var doubles = new Parameter("d", Tensor.Randn([64, 64], new Generator(21), dtype: DType.Float64));
        var xd = x.To(DType.Float64);
        for (int i = 0; i < 3; i++) xd.MatMul(doubles.Value);
        Assert.Null(StorageOf(doubles.Value).Packs);
    }
}
