namespace MechInterp.Saes;

/// <summary>
/// Hyperparameters of <see cref="SaeTrainer"/> (SAELens's runner fields). The learning rate rises linearly from 0 over
/// <see cref="LrWarmupSteps"/>, stays, and falls linearly to 0 over the last <see cref="LrDecaySteps"/>; the sparsity
/// coefficient rises linearly from 0 over <see cref="SparsityWarmupSteps"/>.
/// </summary>
public sealed record SaeTrainerOptions
{
    /// <summary>Number of optimiser steps.</summary>
    public required long TotalSteps { get; init; }

    /// <summary>Adam's learning rate after warm-up.</summary>
    public double LearningRate { get; init; } = 3e-4;

    /// <summary>Adam β₁.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam β₂.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Steps of linear learning-rate warm-up from 0.</summary>
    public long LrWarmupSteps { get; init; }

    /// <summary>Final steps of linear learning-rate decay to 0.</summary>
    public long LrDecaySteps { get; init; }

    /// <summary>Steps of linear warm-up of <see cref="SaeLossOptions.SparsityCoefficient"/> from 0.</summary>
    public long SparsityWarmupSteps { get; init; }

    /// <summary>The loss coefficients; <see cref="SaeLossOptions.SparsityCoefficient"/> is the value after warm-up.</summary>
    public SaeLossOptions Loss { get; init; } = new();

    /// <summary>Keep decoder rows at unit norm: the gradient component along each row is removed before the step and
    /// the rows are renormalised after it (not needed for TopK with decoder-norm rescaling).</summary>
    public bool NormalizeDecoder { get; init; }

    /// <summary>A latent that has not fired for this many training tokens is dead (for the aux and pre-act losses and
    /// <see cref="SaeTrainingProgress.DeadFraction"/>).</summary>
    public long DeadTokensWindow { get; init; } = 10_000_000;

    /// <summary>Report progress every this many steps (and at the last).</summary>
    public int ReportEvery { get; init; } = 100;

    /// <summary>The learning rate at <paramref name="step"/> (0-based).</summary>
    public double LearningRateAt(long step)
    {
        double rate = LearningRate;
        if (LrWarmupSteps > 0 && step < LrWarmupSteps) rate *= (step + 1) / (double)LrWarmupSteps;
        long decayStart = TotalSteps - LrDecaySteps;
        if (LrDecaySteps > 0 && step >= decayStart) rate *= Math.Max(0, (TotalSteps - step) / (double)LrDecaySteps);
        return rate;
    }

    /// <summary>The sparsity coefficient at <paramref name="step"/> (0-based).</summary>
    public double SparsityAt(long step) =>
        Loss.SparsityCoefficient * (SparsityWarmupSteps > 0 ? Math.Min(1.0, (step + 1) / (double)SparsityWarmupSteps) : 1.0);
}
