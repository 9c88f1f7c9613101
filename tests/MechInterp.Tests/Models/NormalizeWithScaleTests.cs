using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>The one-pass norm-with-scale kernel (used when norm hooks only observe) against the unfused ops
/// TransformerLens runs: centre, scale = sqrt(mean(square) + eps), divide, weight, bias; on both backends.</summary>
public sealed class NormalizeWithScaleTests
{
    [Theory]
    [InlineData("cpu", false, DType.Float32)]
    [InlineData("cpu", true, DType.Float32)]
    [InlineData("cpu", false, DType.Float64)]
    [InlineData("cpu", true, DType.Float64)]
    [InlineData("torch-cpu", false, DType.Float32)]
    [InlineData("torch-cpu", true, DType.Float32)]
    public void MatchesTheUnfusedOps(string device, bool rms, DType dtype)
    {
        using var scope = Tensor.Scope();
        var d = Device.Parse(device);
        const double eps = 1e-5;
        var x = (Tensor.Randn([2, 5, 37], new Generator(21), std: 3, dtype: dtype) + 1.5).To(d);
        var w = rms ? null : Tensor.Randn([37], new Generator(22), dtype: dtype).To(d);
        var b = rms ? null : Tensor.Randn([37], new Generator(23), dtype: dtype).To(d);
        var centered = rms ? x : x - x.Mean(-1, keepDim: true);
        var scale = (centered.Square().Mean(-1, keepDim: true) + eps).Sqrt();
        var expected = centered / scale;
        if (w is not null) expected = expected * w + b!;
        var (normalized, fusedScale) = x.NormalizeWithScale(w, b, eps, rms);
        Assert.Equal(scale.Shape, fusedScale.Shape);
        double tol = dtype == DType.Float64 ? 1e-12 : 2e-6;
        Assert.True(FixtureReference.MaxAbsDiff(fusedScale, scale) <= tol * 10, $"scale: {FixtureReference.MaxAbsDiff(fusedScale, scale):E2}");
        Assert.True(FixtureReference.MaxAbsDiff(normalized, expected) <= tol * 10, $"normalized: {FixtureReference.MaxAbsDiff(normalized, expected):E2}");
    }

    [Fact]
    public void RefusesToDropAGradient()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.Randn([3, 8], new Generator(1)).RequiresGrad_();
        Assert.Throws<InvalidOperationException>(() => x.NormalizeWithScale(null, null, 1e-5, rms: true));
        using (GradMode.NoGrad()) Assert.Equal([3L, 1L], x.NormalizeWithScale(null, null, 1e-5, rms: true).Scale.Shape);
    }
}
