namespace MechInterp.Optim;

/// <summary>Learning rate as a function of the step (0-based).</summary>
public abstract class LearningRateSchedule
{
    /// <summary>The rate at <paramref name="step"/>.</summary>
    public abstract double At(long step);

    /// <summary>Sets the optimizer's rate for its next step.</summary>
    public void Apply(Optimizer optimizer) => optimizer.LearningRate = At(optimizer.StepCount);

    /// <summary>A constant rate.</summary>
    public static LearningRateSchedule Constant(double rate) => new Fn(_ => rate);

    /// <summary>Linear warm-up from 0 to <paramref name="rate"/> over <paramref name="warmupSteps"/>, then constant.</summary>
    public static LearningRateSchedule LinearWarmup(double rate, long warmupSteps) =>
        new Fn(s => warmupSteps <= 0 ? rate : rate * Math.Min(1.0, (s + 1) / (double)warmupSteps));

    /// <summary>Linear warm-up, then cosine decay to <paramref name="minRate"/> at <paramref name="totalSteps"/>.</summary>
    public static LearningRateSchedule Cosine(double rate, long totalSteps, long warmupSteps = 0, double minRate = 0) => new Fn(s =>
    {
        if (s < warmupSteps) return rate * (s + 1) / warmupSteps;
        double progress = Math.Clamp((s - warmupSteps) / (double)Math.Max(1, totalSteps - warmupSteps), 0, 1);
        return minRate + 0.5 * (rate - minRate) * (1 + Math.Cos(Math.PI * progress));
    });

    /// <summary>Linear warm-up, then linear decay to <paramref name="minRate"/> at <paramref name="totalSteps"/>.</summary>
    public static LearningRateSchedule Linear(double rate, long totalSteps, long warmupSteps = 0, double minRate = 0) => new Fn(s =>
    {
        if (s < warmupSteps) return rate * (s + 1) / warmupSteps;
        double progress = Math.Clamp((s - warmupSteps) / (double)Math.Max(1, totalSteps - warmupSteps), 0, 1);
        return rate + (minRate - rate) * progress;
    });

    private sealed class Fn(Func<long, double> f) : LearningRateSchedule
    {
        public override double At(long step) => f(step);
    }
}

/// <summary>Gradient clipping.</summary>
public static class GradientClipping
{
    /// <summary>Scales all gradients so their joint L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipByNorm(IEnumerable<Tensor> tensors, double maxNorm)
    {
        var list = tensors.Where(t => t.Grad is not null).ToList();
        using var _ = GradMode.NoGrad();
        double total = Math.Sqrt(list.Sum(t => { using var s = t.Grad!.Square().Sum().To(DType.Float64); return s.Item<double>(); }));
        if (total > maxNorm && total > 0)
        {
            double scale = maxNorm / (total + 1e-6);
            foreach (var t in list)
            {
                var scaled = (t.Grad! * scale).DetachFromScopes();
                t.Grad!.Dispose();
                t.Grad = scaled;
            }
        }
        return total;
    }
}
