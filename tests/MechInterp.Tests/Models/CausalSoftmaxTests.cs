using MechInterp.Tests.Autograd;
using MechInterp.Tests.Torch;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>
/// The fused attention softmax (scale + causal mask + softmax in one pass) against the unfused ops it replaces
/// (scale, mask with -inf, softmax, NaN → 0), on both backends, with its gradient against finite differences.
/// </summary>
[Collection("Isolated")] // its libtorch work must not overlap TorchMemoryTests' RSS measurement
public class CausalSoftmaxTests
{
    private static Tensor Reference(Tensor scores, double scale)
    {
        long q = scores.Shape[^2], kv = scores.Shape[^1], offset = kv - q;
        var qi = Tensor.Arange(offset, offset + q, device: scores.Device).Unsqueeze(1);
        var kj = Tensor.Arange(kv, device: scores.Device).Unsqueeze(0);
        var masked = Tensor.Where(kj <= qi, scores * scale, Tensor.Full([], double.NegativeInfinity, scores.DType, scores.Device));
        var p = masked.Softmax(-1);
        return Tensor.Where(p.IsNan(), Tensor.Zeros([], p.DType, p.Device), p);
    }

    public static TheoryData<long, long, double> Shapes => new()
    {
        { 5, 5, 0.125 },   // prompt: square causal
        { 1, 9, 0.5 },     // one new token over a key/value cache
        { 3, 7, 1.0 },     // a few new tokens over a cache
        { 6, 4, 0.3 },     // more queries than keys: the first rows see nothing and are 0
        { 4, 40, -0.7 },   // negative scale, rows longer than one vector
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesUnfusedOpsOnTheManagedBackend(long q, long kv, double scale)
    {
        using var scope = Tensor.Scope();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.Randn([2, 3, q, kv], new Generator(7), std: 3, dtype: dtype);
            var fused = x.CausalSoftmax(scale).To(DType.Float64).ToArray<double>();
            var reference = Reference(x, scale).To(DType.Float64).ToArray<double>();
            for (int i = 0; i < fused.Length; i++)
                Assert.True(Math.Abs(fused[i] - reference[i]) <= 1e-6 + 1e-5 * Math.Abs(reference[i]), $"{dtype} element {i}: {fused[i]} vs {reference[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TorchAndManagedAgree(long q, long kv, double scale) =>
        ParityHarness.Check($"causal_softmax {q}x{kv}", device => [ParityHarness.Randn(device, 11, 2, q, kv).CausalSoftmax(scale)]);

    [Fact]
    public void NonContiguousScoresAreRead()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([2, 6, 5], new Generator(3)).Permute(0, 2, 1); // [2, 5, 6] transposed view
        var fused = x.CausalSoftmax(0.25).ToArray<float>();
        var reference = Reference(x.Contiguous(), 0.25).ToArray<float>();
        for (int i = 0; i < fused.Length; i++) Assert.Equal(reference[i], fused[i], 5);
    }

    [Fact]
    public void GradientMatchesFiniteDifferences() =>
        GradCheck.Run("causal_softmax", new GradCase(x => x[0].CausalSoftmax(0.7), Arg.Of(2, 3, 5)));

    [Fact]
    public void GradientOverACacheMatchesFiniteDifferences() =>
        GradCheck.Run("causal_softmax with offset", new GradCase(x => x[0].CausalSoftmax(-1.3), Arg.Of(2, 7)));
}
