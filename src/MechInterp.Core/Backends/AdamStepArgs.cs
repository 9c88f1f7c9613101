namespace MechInterp.Backends;

/// <summary>
/// The scalars of one Adam/AdamW update (<see cref="IInPlaceKernels.AdamStepInPlace"/>), with PyTorch's semantics
/// (<c>torch.optim.Adam</c>/<c>AdamW</c>, no amsgrad, not maximizing):
/// <code>
/// g = grad + wd·p                (Adam, wd ≠ 0: L2 in the gradient)
/// p = p·(1 − lr·wd)              (AdamW: decoupled decay)
/// m = β1·m + (1 − β1)·g
/// v = β2·v + (1 − β2)·g²
/// p = p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + eps)
/// </code>
/// </summary>
/// <param name="LearningRate">lr.</param>
/// <param name="Beta1">First-moment decay β1.</param>
/// <param name="Beta2">Second-moment decay β2.</param>
/// <param name="Eps">Denominator epsilon.</param>
/// <param name="WeightDecay">wd (0 for none).</param>
/// <param name="Decoupled">True for AdamW's decoupled decay, false for Adam's L2 term.</param>
/// <param name="Step">The step number t, counted from 1 (bias corrections).</param>
internal readonly record struct AdamStepArgs(double LearningRate, double Beta1, double Beta2, double Eps, double WeightDecay, bool Decoupled, long Step)
{
    /// <summary>lr / (1 − β1^t).</summary>
    public double StepSize => LearningRate / (1 - Math.Pow(Beta1, Step));

    /// <summary>√(1 − β2^t).</summary>
    public double BiasCorrection2Sqrt => Math.Sqrt(1 - Math.Pow(Beta2, Step));

    /// <summary>Factor on p before the update: 1 − lr·wd for AdamW, 1 otherwise.</summary>
    public double DecayFactor => Decoupled ? 1 - LearningRate * WeightDecay : 1;

    /// <summary>Factor of p added to the gradient: wd for Adam, 0 for AdamW.</summary>
    public double L2 => Decoupled ? 0 : WeightDecay;
}
