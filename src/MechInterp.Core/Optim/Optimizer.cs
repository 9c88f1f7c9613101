namespace MechInterp.Optim;

/// <summary>Base of optimizers: updates parameter tensors in place of their values from their gradients.</summary>
public abstract class Optimizer
{
    private readonly Parameter[]? _parameters;
    private readonly Tensor[]? _tensors;

    /// <summary>Optimizes module parameters (values may be replaced; the optimizer follows the <see cref="Parameter"/>).</summary>
    protected Optimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        _parameters = parameters.ToArray();
        LearningRate = learningRate;
    }

    /// <summary>Optimizes plain leaf tensors (updated in place: the same Tensor objects hold the new values).</summary>
    protected Optimizer(IEnumerable<Tensor> tensors, double learningRate)
    {
        _tensors = tensors.ToArray();
        foreach (var t in _tensors)
            if (!t.RequiresGrad) throw new ArgumentException("every optimized tensor must have RequiresGrad = true");
        LearningRate = learningRate;
    }

    /// <summary>The current learning rate (schedules set it each step).</summary>
    public double LearningRate { get; set; }

    /// <summary>Number of steps taken.</summary>
    public long StepCount { get; internal set; }

    /// <summary>The optimized tensors (current values).</summary>
    public IReadOnlyList<Tensor> Tensors => _parameters?.Select(p => p.Value).ToArray() ?? _tensors!;

    /// <summary>Applies one update from the current gradients (parameters without a gradient are skipped).</summary>
    public void Step()
    {
        StepCount++;
        using var noGrad = GradMode.NoGrad();
        int n = _parameters?.Length ?? _tensors!.Length;
        for (int i = 0; i < n; i++)
        {
            var current = _parameters?[i].Value ?? _tensors![i];
            if (current.Grad is null) continue;
            using var scope = Tensor.Scope();
            var updated = Update(i, current, current.Grad);
            if (ReferenceEquals(updated, current)) continue;
            current.AssignData(updated.Contiguous().Clone());
            current.MarkAsWeight(); // the new elements are still weights (packable while unchanged)
        }
    }

    /// <summary>Clears every gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var t in Tensors) t.ZeroGrad();
    }

    /// <summary>The new value of parameter <paramref name="index"/> (state kept by the subclass, moved out of scopes).</summary>
    protected abstract Tensor Update(int index, Tensor value, Tensor grad);

    /// <summary>Keeps optimizer state alive across steps.</summary>
    protected static Tensor Keep(Tensor t) => t.DetachFromScopes();
}
