namespace MechInterp.Saes;

/// <summary>What <see cref="SaeTrainer"/> reports after a step: losses, sparsity, fidelity and speed.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Tokens">Training tokens (rows) seen.</param>
/// <param name="Loss">The total loss of the step.</param>
/// <param name="Losses">Each loss component of the step.</param>
/// <param name="L0">Mean non-zero latents per row.</param>
/// <param name="ExplainedVariance">1 − Σ‖x − x̂‖² / Σ‖x − mean(x)‖² over the batch.</param>
/// <param name="DeadFraction">Fraction of latents that have not fired within the dead window.</param>
/// <param name="TokensPerSecond">Rows per second since training started (this process).</param>
/// <param name="LearningRate">The learning rate of the step.</param>
public sealed record SaeTrainingProgress(long Step, long TotalSteps, long Tokens, double Loss, IReadOnlyDictionary<string, double> Losses,
    double L0, double ExplainedVariance, double DeadFraction, double TokensPerSecond, double LearningRate);
