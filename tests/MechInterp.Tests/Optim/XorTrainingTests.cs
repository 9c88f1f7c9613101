using MechInterp.Optim;
using Xunit;

namespace MechInterp.Tests.Optim;

/// <summary>A 2-8-1 tanh MLP learns XOR with Adam and with SGD + momentum (seeded, full batch, float64).</summary>
public class XorTrainingTests
{
    private static readonly double[] Inputs = [0, 0, 0, 1, 1, 0, 1, 1];
    private static readonly double[] Labels = [0, 1, 1, 0];

    private sealed class Mlp
    {
        public Tensor W1 { get; }
        public Tensor B1 { get; }
        public Tensor W2 { get; }
        public Tensor B2 { get; }
        public Tensor[] Parameters => [W1, B1, W2, B2];

        public Mlp(ulong seed)
        {
            var gen = new Generator(seed);
            Tensor P(long[] shape, double std) =>
                Tensor.Randn(shape, gen, std: std, dtype: DType.Float64).DetachFromScopes().RequiresGrad_();
            W1 = P([2, 8], 1.0);
            B1 = P([8], 0.1);
            W2 = P([8, 1], 0.5);
            B2 = P([1], 0.1);
        }

        /// <summary>Probability of class 1 for each row of <paramref name="x"/> [N, 2].</summary>
        public Tensor Forward(Tensor x) => ((x.MatMul(W1) + B1).Tanh().MatMul(W2) + B2).Sigmoid().Squeeze(-1);
    }

    private static (double Loss, double[] Predictions) Train(Func<Tensor[], Optimizer> makeOptimizer, int steps)
    {
        var model = new Mlp(seed: 7);
        var optimizer = makeOptimizer(model.Parameters);
        using var data = Tensor.FromArray(Inputs, [4, 2], DType.Float64, Device.Cpu);
        using var labels = Tensor.FromArray(Labels, [4], DType.Float64, Device.Cpu);
        double loss = double.NaN;
        for (int step = 0; step < steps; step++)
        {
            using var scope = Tensor.Scope();
            optimizer.ZeroGrad();
            var l = (model.Forward(data) - labels).Square().Mean();
            l.Backward();
            optimizer.Step();
            loss = l.Item<double>();
        }
        double[] predictions;
        using (GradMode.NoGrad())
        using (Tensor.Scope())
            predictions = model.Forward(data).ToArray<double>();
        foreach (var p in model.Parameters) p.Dispose();
        return (loss, predictions);
    }

    private static void AssertLearnedXor(double loss, double[] predictions)
    {
        for (int i = 0; i < 4; i++)
            Assert.True(Labels[i] == 1 ? predictions[i] > 0.5 : predictions[i] < 0.5,
                $"input ({Inputs[2 * i]}, {Inputs[2 * i + 1]}): predicted {predictions[i]:F3}, label {Labels[i]}");
        Assert.True(loss < 0.02, $"final MSE {loss}");
    }

    [Fact]
    public void AdamLearnsXor()
    {
        var (loss, predictions) = Train(p => new Adam(p, learningRate: 0.05), steps: 300);
        AssertLearnedXor(loss, predictions);
    }

    [Fact]
    public void SgdWithMomentumLearnsXor()
    {
        var (loss, predictions) = Train(p => new Sgd(p, learningRate: 0.5, momentum: 0.9), steps: 600);
        AssertLearnedXor(loss, predictions);
    }
}
