namespace MechInterp.Training;

/// <summary>How the learning rate moves after warm-up.</summary>
public enum LearningRateDecay
{
    /// <summary>Constant after warm-up.</summary>
    Constant,
    /// <summary>Cosine decay to <see cref="TrainerOptions.MinLearningRate"/> at the last step.</summary>
    Cosine,
    /// <summary>Linear decay to <see cref="TrainerOptions.MinLearningRate"/> at the last step.</summary>
    Linear,
}

/// <summary>Settings of a <see cref="Trainer"/> run (immutable). Defaults: AdamW at 1e-3 with weight decay 0.01 and
/// β (0.9, 0.999), no warm-up, constant rate, gradient norm clipped to 1.</summary>
public sealed record TrainerOptions
{
    /// <summary>Optimizer steps.</summary>
    public required int Steps { get; init; }
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>AdamW decoupled weight decay.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>AdamW β1.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β2.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Linear warm-up steps from 0 to <see cref="LearningRate"/>.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>The decay after warm-up.</summary>
    public LearningRateDecay Decay { get; init; } = LearningRateDecay.Constant;
    /// <summary>Where decay ends.</summary>
    public double MinLearningRate { get; init; }
    /// <summary>Clip the joint gradient norm to this (null: no clipping).</summary>
    public double? MaxGradNorm { get; init; } = 1.0;
    /// <summary>Seed of the generator that draws batches.</summary>
    public ulong Seed { get; init; }
    /// <summary>Run the evaluation every this many steps (and after the last); 0 disables it.</summary>
    public int EvalEvery { get; init; }
    /// <summary>Report progress every this many steps (and after the last).</summary>
    public int ReportEvery { get; init; } = 50;
    /// <summary>Folder for checkpoints (null: none). The final model is saved there; intermediate ones to
    /// <c>step-N</c> subfolders when <see cref="CheckpointEvery"/> is set.</summary>
    public string? CheckpointDirectory { get; init; }
    /// <summary>Save an intermediate checkpoint every this many steps; 0 saves only the final model.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Checks the settings; throws naming the field.</summary>
    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"TrainerOptions.Steps must be positive, got {Steps}");
        if (LearningRate <= 0) throw new ArgumentException($"TrainerOptions.LearningRate must be positive, got {LearningRate}");
        if (WarmupSteps < 0 || WarmupSteps > Steps) throw new ArgumentException($"TrainerOptions.WarmupSteps must be in 0..Steps ({Steps}), got {WarmupSteps}");
        if (MaxGradNorm is <= 0) throw new ArgumentException($"TrainerOptions.MaxGradNorm must be positive or null, got {MaxGradNorm}");
        if (EvalEvery < 0 || ReportEvery <= 0 || CheckpointEvery < 0)
            throw new ArgumentException("TrainerOptions.EvalEvery and CheckpointEvery must be >= 0 and ReportEvery > 0");
        if (CheckpointEvery > 0 && CheckpointDirectory is null)
            throw new ArgumentException("TrainerOptions.CheckpointEvery needs a CheckpointDirectory to save into");
    }
}

/// <summary>A progress report of a <see cref="Trainer"/>.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="TotalSteps">Steps asked for.</param>
/// <param name="Loss">The last step's training loss.</param>
/// <param name="LearningRate">The rate of the last step.</param>
/// <param name="GradNorm">The last step's gradient norm before clipping (NaN when not clipping).</param>
/// <param name="TokensPerSecond">Training throughput since the start.</param>
/// <param name="EvalLoss">The latest evaluation, when one ran.</param>
/// <param name="Elapsed">Wall time since the start.</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double Loss, double LearningRate, double GradNorm,
    double TokensPerSecond, double? EvalLoss, TimeSpan Elapsed);

/// <summary>What a <see cref="Trainer"/> run measured.</summary>
/// <param name="Losses">Training loss per step.</param>
/// <param name="Evaluations">(step, value) of each evaluation.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="TokensPerSecond">Training throughput.</param>
public sealed record TrainingResult(IReadOnlyList<double> Losses, IReadOnlyList<(int Step, double Value)> Evaluations,
    TimeSpan Elapsed, double TokensPerSecond);
