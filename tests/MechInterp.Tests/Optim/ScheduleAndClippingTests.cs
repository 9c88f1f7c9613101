using MechInterp.Optim;
using Xunit;

namespace MechInterp.Tests.Optim;

/// <summary>Learning-rate schedules at specific steps, and gradient clipping by global norm, against hand values.</summary>
public class ScheduleAndClippingTests
{
    [Fact]
    public void ConstantSchedule()
    {
        var s = LearningRateSchedule.Constant(3e-4);
        foreach (var step in new long[] { 0, 1, 1000 }) Assert.Equal(3e-4, s.At(step));
    }

    [Fact]
    public void LinearWarmupRisesLinearlyThenHolds()
    {
        var s = LearningRateSchedule.LinearWarmup(0.8, 4);
        // step s (0-based) uses rate·(s+1)/warmup until it reaches the rate after `warmup` steps.
        Assert.Equal(0.2, s.At(0), 15);
        Assert.Equal(0.4, s.At(1), 15);
        Assert.Equal(0.6, s.At(2), 15);
        Assert.Equal(0.8, s.At(3), 15);
        Assert.Equal(0.8, s.At(4), 15);
        Assert.Equal(0.8, s.At(100), 15);
        Assert.Equal(0.8, LearningRateSchedule.LinearWarmup(0.8, 0).At(0), 15);
    }

    [Fact]
    public void CosineWithWarmupAndFloor()
    {
        var s = LearningRateSchedule.Cosine(1.0, totalSteps: 12, warmupSteps: 2, minRate: 0.1);
        Assert.Equal(0.5, s.At(0), 15);
        Assert.Equal(1.0, s.At(1), 15);
        Assert.Equal(1.0, s.At(2), 15);                                        // progress 0
        Assert.Equal(0.1 + 0.45 * (1 + Math.Cos(Math.PI * 0.2)), s.At(4), 15);   // progress 2/10
        Assert.Equal(0.1 + 0.45 * (1 + Math.Cos(Math.PI * 0.5)), s.At(7), 15);  // progress 1/2 → 0.55
        Assert.Equal(0.55, s.At(7), 12);
        Assert.Equal(0.1, s.At(12), 15);
        Assert.Equal(0.1, s.At(50), 15);
    }

    [Fact]
    public void CosineWithoutWarmupStartsAtTheRate()
    {
        var s = LearningRateSchedule.Cosine(2.0, totalSteps: 4);
        Assert.Equal(2.0, s.At(0), 15);
        Assert.Equal(1.0 * (1 + Math.Cos(Math.PI / 4)), s.At(1), 15);
        Assert.Equal(1.0, s.At(2), 15);
        Assert.Equal(0.0, s.At(4), 15);
    }

    [Fact]
    public void ApplySetsTheRateForTheOptimizersNextStep()
    {
        using var p = Tensor.FromArray(new double[] { 1 }, [1], DType.Float64, Device.Cpu).DetachFromScopes().RequiresGrad_();
        var opt = new Sgd([p], learningRate: 123);
        var s = LearningRateSchedule.LinearWarmup(1.0, 4);
        var seen = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            using var scope = Tensor.Scope();
            s.Apply(opt);
            seen.Add(opt.LearningRate);
            p.ZeroGrad();
            (p * 1.0).Sum().Backward();
            opt.Step();
        }
        Assert.Equal(new[] { 0.25, 0.5, 0.75 }, seen);
        Assert.Equal(1 - 0.25 - 0.5 - 0.75, p.Item<double>(), 14);
    }

    private static Tensor WithGrad(double[] grad)
    {
        var t = Tensor.Zeros([grad.Length], DType.Float64).DetachFromScopes().RequiresGrad_();
        using var scope = Tensor.Scope();
        (t * Tensor.FromArray(grad, [grad.Length], DType.Float64, Device.Cpu)).Sum().Backward();
        return t;
    }

    [Fact]
    public void ClipByNormScalesToMaxNormAndReturnsThePreClipNorm()
    {
        using var a = WithGrad([3, -4]);
        using var b = WithGrad([12]);
        using var none = Tensor.Zeros([2], DType.Float64).DetachFromScopes().RequiresGrad_(); // no gradient: ignored
        double total = GradientClipping.ClipByNorm([a, b, none], maxNorm: 6.5);
        Assert.Equal(13.0, total, 12);                                           // sqrt(9 + 16 + 144)
        var ga = a.Grad!.ToArray<double>();
        var gb = b.Grad!.ToArray<double>();
        double after = Math.Sqrt(ga.Sum(v => v * v) + gb.Sum(v => v * v));
        Assert.True(Math.Abs(after - 6.5) <= 6.5 * 1e-6, $"norm after clipping {after:R}");
        // Directions are kept: every entry scaled by the same factor (≈ 1/2).
        Assert.Equal(ga[0] / 3, ga[1] / -4, 14);
        Assert.Equal(ga[0] / 3, gb[0] / 12, 14);
        Assert.Null(none.Grad);
    }

    [Fact]
    public void ClipByNormLeavesSmallGradientsUnchanged()
    {
        using var a = WithGrad([0.3, 0.4]);
        double total = GradientClipping.ClipByNorm([a], maxNorm: 1.0);
        Assert.Equal(0.5, total, 14);
        Assert.Equal(new[] { 0.3, 0.4 }, a.Grad!.ToArray<double>());
    }
}
