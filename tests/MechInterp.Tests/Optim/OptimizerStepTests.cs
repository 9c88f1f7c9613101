using MechInterp.Optim;
using Xunit;

namespace MechInterp.Tests.Optim;

/// <summary>Single optimizer steps against hand computations of PyTorch's update formulas
/// (torch.optim.SGD, Adam, AdamW; dampening 0, no Nesterov, no amsgrad).</summary>
public class OptimizerStepTests
{
    private static readonly double[] P0 = [0.5, -1.25, 2.0];
    private static readonly double[] G1 = [0.3, -0.8, 1e-3];
    private static readonly double[] G2 = [-0.1, 0.4, 2.5];

    private static Tensor Param() => Tensor.FromArray((double[])P0.Clone(), [3], DType.Float64, Device.Cpu).DetachFromScopes().RequiresGrad_();

    /// <summary>Sets p.Grad = g through the engine: L = Σ p ⊙ g has gradient g.</summary>
    private static void SetGrad(Tensor p, double[] g)
    {
        using var scope = Tensor.Scope();
        p.ZeroGrad();
        (p * Tensor.FromArray(g, [g.Length], DType.Float64, Device.Cpu)).Sum().Backward();
    }

    private static void AssertClose(double[] expected, Tensor actual, double tol = 1e-14)
    {
        var a = actual.ToArray<double>();
        for (int i = 0; i < a.Length; i++)
            Assert.True(Math.Abs(expected[i] - a[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"[{i}]: expected {expected[i]:R}, got {a[i]:R}");
    }

    /// <summary>Two steps of Adam/AdamW by hand (PyTorch), gradients G1 then G2.</summary>
    private static double[] HandAdam(double lr, double b1, double b2, double eps, double wd, bool decoupled)
    {
        var p = (double[])P0.Clone();
        var m = new double[3];
        var v = new double[3];
        double[][] grads = [G1, G2];
        for (int t = 1; t <= 2; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = grads[t - 1][i];
                if (decoupled) p[i] *= 1 - lr * wd;
                else g += wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t));
                double vHat = v[i] / (1 - Math.Pow(b2, t));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        return p;
    }

    private static Tensor TwoSteps(Func<Tensor, Optimizer> make)
    {
        var p = Param();
        var opt = make(p);
        SetGrad(p, G1);
        opt.Step();
        SetGrad(p, G2);
        opt.Step();
        Assert.Equal(2, opt.StepCount);
        return p;
    }

    [Fact]
    public void AdamWMatchesPyTorchFormulas()
    {
        using var p = TwoSteps(p => new AdamW([p], learningRate: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-3, weightDecay: 0.2));
        AssertClose(HandAdam(0.1, 0.8, 0.95, 1e-3, 0.2, decoupled: true), p);
        Assert.True(p.RequiresGrad);
        Assert.True(p.IsLeaf);
    }

    [Fact]
    public void AdamWOneStepDecaysWeightsIndependentlyOfTheGradient()
    {
        // With a zero gradient the Adam part is 0/(0+eps) = 0: only the decoupled decay p·(1 - lr·wd) remains.
        using var p = Param();
        var opt = new AdamW([p], learningRate: 0.1, weightDecay: 0.5);
        SetGrad(p, [0, 0, 0]);
        opt.Step();
        AssertClose(P0.Select(v => v * (1 - 0.1 * 0.5)).ToArray(), p);
    }

    [Fact]
    public void AdamWithL2WeightDecayMatchesPyTorchFormulas()
    {
        using var p = TwoSteps(p => new Adam([p], learningRate: 0.05, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.3));
        AssertClose(HandAdam(0.05, 0.9, 0.99, 1e-8, 0.3, decoupled: false), p);
    }

    [Fact]
    public void SgdWithMomentumAndWeightDecayMatchesPyTorchFormulas()
    {
        using var p = TwoSteps(p => new Sgd([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01));
        var expected = (double[])P0.Clone();
        var buf = new double[3];
        double[][] grads = [G1, G2];
        for (int t = 0; t < 2; t++)
            for (int i = 0; i < 3; i++)
            {
                double g = grads[t][i] + 0.01 * expected[i];
                buf[i] = t == 0 ? g : 0.9 * buf[i] + g;
                expected[i] -= 0.1 * buf[i];
            }
        AssertClose(expected, p);
    }

    [Fact]
    public void ParametersWithoutGradientAreSkipped()
    {
        using var p = Param();
        using var q = Param();
        var opt = new Sgd([p, q], learningRate: 1.0);
        SetGrad(p, G1);
        opt.Step();
        AssertClose(P0.Zip(G1, (a, g) => a - g).ToArray(), p);
        AssertClose(P0, q);
    }

    [Fact]
    public void OptimizerRejectsTensorsWithoutRequiresGrad()
    {
        using var t = Tensor.FromArray(new double[] { 1 }, [1], DType.Float64, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => new Sgd([t], 0.1));
        Assert.Contains("RequiresGrad", e.Message);
    }
}
