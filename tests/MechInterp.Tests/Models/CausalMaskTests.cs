using MechInterp.Tests.Autograd;
using MechInterp.Tests.Torch;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>
/// The fused causal masking of attention scores (scale, and -inf on hidden keys, in one pass) against the unfused ops
/// it replaces, on both backends, with its gradient against finite differences; and the identity that the causal
/// softmax of the masked scores is the softmax of them.
/// </summary>
[Collection("Isolated")] // its libtorch work must not overlap TorchMemoryTests' RSS measurement
public class CausalMaskTests
{
    private static Tensor Reference(Tensor scores, double scale, double fill)
    {
        long q = scores.Shape[^2], kv = scores.Shape[^1], offset = kv - q;
        var qi = Tensor.Arange(offset, offset + q, device: scores.Device).Unsqueeze(1);
        var kj = Tensor.Arange(kv, device: scores.Device).Unsqueeze(0);
        return Tensor.Where(kj <= qi, scores * scale, Tensor.Full([], fill, scores.DType, scores.Device));
    }

    public static TheoryData<long, long, double> Shapes => new()
    {
        { 5, 5, 0.125 },   // prompt: square causal
        { 1, 9, 0.5 },     // one new token over a key/value cache
        { 3, 7, 1.0 },     // a few new tokens over a cache
        { 6, 4, 0.3 },     // more queries than keys: the first rows see nothing
        { 4, 40, -0.7 },   // negative scale, rows longer than one vector
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesUnfusedOpsOnTheManagedBackend(long q, long kv, double scale)
    {
        using var scope = Tensor.Scope();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var fill in new[] { double.NegativeInfinity, 0.0, 2.5 })
            {
                var x = Tensor.Randn([2, 3, q, kv], new Generator(7), std: 3, dtype: dtype);
                var fused = x.CausalMask(scale, fill).To(DType.Float64).ToArray<double>();
                var reference = Reference(x, scale, fill).To(DType.Float64).ToArray<double>();
                for (int i = 0; i < fused.Length; i++)
                    Assert.True(fused[i] == reference[i] || Math.Abs(fused[i] - reference[i]) <= 1e-6 * Math.Abs(reference[i]),
                        $"{dtype} fill {fill} element {i}: {fused[i]} vs {reference[i]}");
            }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TorchAndManagedAgree(long q, long kv, double scale) =>
        ParityHarness.Check($"causal_mask {q}x{kv}", device => [ParityHarness.Randn(device, 11, 2, q, kv).CausalMask(scale, 0.0)]);

    [Fact]
    public void CausalSoftmaxOfTheMaskedScoresIsTheirSoftmax()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([2, 3, 6, 9], new Generator(5), std: 2);
        var masked = x.CausalMask(0.125);
        var viaCausal = masked.CausalSoftmax().ToArray<float>();
        var viaFull = masked.Softmax(-1).ToArray<float>();
        for (int i = 0; i < viaFull.Length; i++) Assert.True(Math.Abs(viaFull[i] - viaCausal[i]) <= 1e-6, $"element {i}: {viaCausal[i]} vs {viaFull[i]}");
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("torch-cpu")]
    public void InPlaceMaskingEqualsTheOutOfPlaceOp(string device)
    {
        using var scope = Tensor.Scope();
        var d = Device.Parse(device);
        var x = Tensor.Randn([2, 3, 4, 9], new Generator(9), std: 2).To(d);
        var expected = x.CausalMask(0.3).To(Device.Cpu).ToArray<float>();
        var y = x.Clone();
        Assert.Same(y, y.CausalMaskInPlace(0.3));
        Assert.Equal(expected, y.To(Device.Cpu).ToArray<float>());
        var tracked = x.Clone().RequiresGrad_();
        Assert.Throws<InvalidOperationException>(() => tracked.CausalMaskInPlace(0.3));
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("torch-cpu")]
    public void FusedMaskAndSoftmaxEqualTheTwoOps(string device)
    {
        using var scope = Tensor.Scope();
        var d = Device.Parse(device);
        foreach (var (q, kv) in new[] { (5L, 5L), (3L, 40L), (1L, 9L) })
        {
            var x = Tensor.Randn([2, 3, q, kv], new Generator(13), std: 2).To(d);
            var masked = x.CausalMask(0.125);
            var pattern = masked.CausalSoftmax().To(Device.Cpu).ToArray<float>();
            var y = x.Clone();
            var fused = y.CausalMaskSoftmaxInPlace(0.125).To(Device.Cpu).ToArray<float>();
            Assert.Equal(masked.To(Device.Cpu).ToArray<float>(), y.To(Device.Cpu).ToArray<float>());
            for (int i = 0; i < pattern.Length; i++)
                Assert.True(Math.Abs(pattern[i] - fused[i]) <= 1e-6, $"{device} {q}x{kv} element {i}: {fused[i]} vs {pattern[i]}");
        }
    }

    [Fact]
    public void NonContiguousScoresAreRead()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([2, 6, 5], new Generator(3)).Permute(0, 2, 1); // [2, 5, 6] transposed view
        var fused = x.CausalMask(0.25).ToArray<float>();
        var reference = Reference(x.Contiguous(), 0.25, double.NegativeInfinity).ToArray<float>();
        Assert.Equal(reference, fused);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences() =>
        GradCheck.Run("causal_mask then softmax", new GradCase(x => x[0].CausalMask(0.7).Softmax(-1), Arg.Of(2, 3, 5)));

    [Fact]
    public void GradientOverACacheMatchesFiniteDifferences() =>
        GradCheck.Run("causal_mask with offset", new GradCase(x => x[0].CausalMask(-1.3, 0.0), Arg.Of(2, 7)));
}
