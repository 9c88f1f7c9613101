using MechInterp.Backends;

namespace MechInterp.Optim;

/// <summary>Adam, or AdamW with decoupled weight decay (PyTorch semantics, bias-corrected moments).</summary>
public class Adam : Optimizer
{
    private readonly Dictionary<int, (Tensor M, Tensor V)> _moments = [];
    private readonly Dictionary<int, long> _steps = [];

    /// <summary>Adam over module parameters.</summary>
    public Adam(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(parameters, learningRate) => (Beta1, Beta2, Eps, WeightDecay) = (beta1, beta2, eps, weightDecay);

    /// <summary>Adam over leaf tensors.</summary>
    public Adam(IEnumerable<Tensor> tensors, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base(tensors, learningRate) => (Beta1, Beta2, Eps, WeightDecay) = (beta1, beta2, eps, weightDecay);

    /// <summary>First-moment decay.</summary>
    public double Beta1 { get; }
    /// <summary>Second-moment decay.</summary>
    public double Beta2 { get; }
    /// <summary>Denominator epsilon.</summary>
    public double Eps { get; }
    /// <summary>Weight decay (L2 for Adam, decoupled for AdamW).</summary>
    public double WeightDecay { get; }
    /// <summary>True for AdamW.</summary>
    protected virtual bool Decoupled => false;

    /// <inheritdoc />
    protected override Tensor Update(int index, Tensor value, Tensor grad)
    {
        long t = _steps[index] = _steps.GetValueOrDefault(index) + 1;
        if (!_moments.TryGetValue(index, out var mv))
            _moments[index] = mv = (Keep(Tensor.ZerosLike(value)), Keep(Tensor.ZerosLike(value)));
        var args = new AdamStepArgs(LearningRate, Beta1, Beta2, Eps, WeightDecay, Decoupled, t);
        // One pass over p, g, m, v that overwrites p, m and v (PyTorch's in-place semantics: views of the parameter see
        // the new values), where the backend has it.
        if (CanFuse(value, grad, mv.M, mv.V) && value.TryAdamStepInPlace(grad, mv.M, mv.V, args)) return value;
        return CompositeUpdate(index, value, grad, mv, args);
    }

    /// <summary>The fused in-place kernel needs plain dense float tensors of one shape and dtype.</summary>
    /// <summary>The moments and step count of parameter <paramref name="index"/>, or null before its first step (for
    /// checkpoints; the tensors are the live state: copy them).</summary>
    internal (Tensor M, Tensor V, long Steps)? StateOf(int index) =>
        _moments.TryGetValue(index, out var mv) ? (mv.M, mv.V, _steps[index]) : null;

    /// <summary>Restores a parameter's moments and step count (resuming from a checkpoint); takes ownership of the tensors.</summary>
    internal void RestoreState(int index, Tensor m, Tensor v, long steps)
    {
        if (_moments.TryGetValue(index, out var old)) { old.M.Dispose(); old.V.Dispose(); }
        _moments[index] = (Keep(m), Keep(v));
        _steps[index] = steps;
    }

    private static bool CanFuse(Tensor value, Tensor grad, Tensor m, Tensor v) =>
        value.DType is DType.Float32 or DType.Float64 && grad.DType == value.DType && grad.Device == value.Device
        && grad.Shape.AsSpan().SequenceEqual(value.Shape)
        && value.IsContiguous && grad.IsContiguous && m.IsContiguous && v.IsContiguous;

    /// <summary>The same update from tensor ops (any layout or dtype): new moment tensors and a new value.</summary>
    private Tensor CompositeUpdate(int index, Tensor value, Tensor grad, (Tensor M, Tensor V) mv, AdamStepArgs a)
    {
        var g = a.L2 != 0 ? grad + value * a.L2 : grad;
        var m = mv.M * Beta1 + g * (1 - Beta1);
        var v = mv.V * Beta2 + g.Square() * (1 - Beta2);
        mv.M.Dispose();
        mv.V.Dispose();
        _moments[index] = (Keep(m), Keep(v));
        var step = m / (v.Sqrt() / a.BiasCorrection2Sqrt + Eps) * a.StepSize;
        var start = a.DecayFactor != 1 ? value * a.DecayFactor : value;
        return start - step;
    }
}

/// <summary>AdamW: Adam with decoupled weight decay.</summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW over module parameters (default weight decay 0.01 as in PyTorch).</summary>
    public AdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate, beta1, beta2, eps, weightDecay) { }

    /// <summary>AdamW over leaf tensors.</summary>
    public AdamW(IEnumerable<Tensor> tensors, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01)
        : base(tensors, learningRate, beta1, beta2, eps, weightDecay) { }

    /// <inheritdoc />
    protected override bool Decoupled => true;
}
