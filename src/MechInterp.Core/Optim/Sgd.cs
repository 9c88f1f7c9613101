namespace MechInterp.Optim;

/// <summary>Stochastic gradient descent with optional momentum (PyTorch semantics) and weight decay.</summary>
public sealed class Sgd : Optimizer
{
    private readonly Dictionary<int, Tensor> _velocity = [];
    private readonly double _momentum, _weightDecay;

    /// <summary>SGD over module parameters.</summary>
    public Sgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double weightDecay = 0)
        : base(parameters, learningRate) => (_momentum, _weightDecay) = (momentum, weightDecay);

    /// <summary>SGD over leaf tensors.</summary>
    public Sgd(IEnumerable<Tensor> tensors, double learningRate, double momentum = 0, double weightDecay = 0)
        : base(tensors, learningRate) => (_momentum, _weightDecay) = (momentum, weightDecay);

    /// <inheritdoc />
    protected override Tensor Update(int index, Tensor value, Tensor grad)
    {
        var g = _weightDecay != 0 ? grad + value * _weightDecay : grad;
        if (_momentum != 0)
        {
            var v = _velocity.TryGetValue(index, out var prev) ? prev * _momentum + g : g.Clone();
            prev?.Dispose();
            _velocity[index] = Keep(v);
            g = v;
        }
        return value - g * LearningRate;
    }
}
