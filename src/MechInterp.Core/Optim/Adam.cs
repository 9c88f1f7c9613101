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
        var g = !Decoupled && WeightDecay != 0 ? grad + value * WeightDecay : grad;
        var (m0, v0) = _moments.TryGetValue(index, out var mv) ? mv : (Tensor.ZerosLike(value), Tensor.ZerosLike(value));
        var m = m0 * Beta1 + g * (1 - Beta1);
        var v = v0 * Beta2 + g.Square() * (1 - Beta2);
        if (mv.M is not null) { mv.M.Dispose(); mv.V.Dispose(); }
        _moments[index] = (Keep(m), Keep(v));
        double c1 = 1 - Math.Pow(Beta1, t), c2 = 1 - Math.Pow(Beta2, t);
        var step = m / c1 / ((v / c2).Sqrt() + Eps) * LearningRate;
        var start = Decoupled && WeightDecay != 0 ? value * (1 - LearningRate * WeightDecay) : value;
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
