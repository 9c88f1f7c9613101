using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>The managed backend's optional fused kernels against the reference versions that Tensor composes from
/// primitives for backends without them (libtorch uses the references): same values on the same inputs.</summary>
public sealed class FusedReferenceTests
{
    private static Tensor Scores(long q, long kv, int seed) => Tensor.Randn([2, 3, q, kv], new Generator((ulong)seed)) * 3;

    private static void Close(Tensor a, Tensor b, double tol, string what)
    {
        var x = a.ToArray<float>();
        var y = b.ToArray<float>();
        Assert.Equal(y.Length, x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNegativeInfinity(y[i])) { Assert.True(float.IsNegativeInfinity(x[i]), $"{what}[{i}]: {x[i]} vs -inf"); continue; }
            Assert.True(Math.Abs(x[i] - y[i]) <= tol, $"{what}[{i}]: {x[i]} vs {y[i]}");
        }
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(3, 9)]  // cached keys before the queries
    [InlineData(70, 70)] // more than one 64-query block
    public void CausalMaskAndSoftmaxMatchTheirReferences(long q, long kv)
    {
        var x = Scores(q, kv, (int)(q * 100 + kv));
        long offset = kv - q;
        Close(x.CausalMask(0.125), x.CausalMaskReference(0.125, offset, double.NegativeInfinity), 1e-6, "mask");
        Close(x.CausalSoftmax(0.125), x.CausalSoftmaxReference(0.125, offset), 1e-6, "softmax");
        var fused = x.Clone().CausalMaskSoftmaxInPlace(0.125);
        Close(fused, x.CausalSoftmaxReference(0.125, offset), 1e-6, "mask+softmax in place");
        var inPlace = x.Clone().CausalMaskInPlace(0.125);
        Close(inPlace, x.CausalMaskReference(0.125, offset, double.NegativeInfinity), 1e-6, "mask in place");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void NormsWithScaleMatchTheirReference(bool rms)
    {
        var x = Tensor.Randn([3, 4, 16], new Generator(7)) * 2 + 0.5;
        var w = rms ? null : Tensor.Randn([16], new Generator(8));
        var b = rms ? null : Tensor.Randn([16], new Generator(9));
        using var _ = GradMode.NoGrad();
        var (n, s) = x.NormalizeWithScale(w, b, 1e-5, rms);
        var (rn, rs) = x.NormalizeWithScaleReference(w, b, 1e-5, rms);
        Close(n, rn, 2e-6, "normalized");
        Close(s, rs, 2e-6, "scale");
        Close(rms ? x.RmsNorm(null, 1e-5) : x.LayerNorm(w, b, 1e-5), rn, 2e-6, "plain norm");
    }
}
