using MathNet.Numerics.LinearAlgebra;
using MechInterp.Optim;
using Xunit;

namespace MechInterp.Tests.Optim;

/// <summary>Linear regression trained by gradient descent converges to the least-squares solution computed
/// independently (MathNet QR on the design matrix with a bias column).</summary>
public class LinearRegressionTests
{
    private const int N = 48, D = 3;

    private static (double[] X, double[] Y) Data()
    {
        var gen = new Generator(11);
        var x = new double[N * D];
        var y = new double[N];
        double[] trueW = [1.5, -2.0, 0.7];
        for (int i = 0; i < N; i++)
        {
            double s = 0.3;
            for (int j = 0; j < D; j++) { x[i * D + j] = gen.NextNormal(); s += trueW[j] * x[i * D + j]; }
            y[i] = s + 0.3 * gen.NextNormal(); // noise: the optimum is not the generating weights
        }
        return (x, y);
    }

    /// <summary>argmin ‖[X 1] θ - y‖² by QR, in double: the weights then the bias.</summary>
    private static double[] LeastSquares(double[] x, double[] y)
    {
        var a = Matrix<double>.Build.Dense(N, D + 1, (i, j) => j < D ? x[i * D + j] : 1.0);
        return a.QR().Solve(Vector<double>.Build.DenseOfArray(y)).ToArray();
    }

    private static double[] Fit(Func<Tensor[], Optimizer> make, int steps, LearningRateSchedule? schedule = null)
    {
        var (xs, ys) = Data();
        using var x = Tensor.FromArray(xs, [N, D], DType.Float64, Device.Cpu);
        using var y = Tensor.FromArray(ys, [N], DType.Float64, Device.Cpu);
        using var w = Tensor.Zeros([D], DType.Float64).DetachFromScopes().RequiresGrad_();
        using var b = Tensor.Zeros([1], DType.Float64).DetachFromScopes().RequiresGrad_();
        var optimizer = make([w, b]);
        for (int step = 0; step < steps; step++)
        {
            using var scope = Tensor.Scope();
            schedule?.Apply(optimizer);
            optimizer.ZeroGrad();
            (x.MatMul(w) + b - y).Square().Mean().Backward();
            optimizer.Step();
        }
        return [.. w.ToArray<double>(), b.Item<double>()];
    }

    private static void AssertClose(double[] expected, double[] actual, double tol)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"θ[{i}]: least squares {expected[i]:R}, trained {actual[i]:R}");
    }

    [Fact]
    public void SgdConvergesToLeastSquares()
    {
        var (x, y) = Data();
        var fitted = Fit(p => new Sgd(p, learningRate: 0.1), steps: 300);
        AssertClose(LeastSquares(x, y), fitted, 1e-8);
    }

    [Fact]
    public void SgdWithMomentumConvergesToLeastSquares()
    {
        var (x, y) = Data();
        var fitted = Fit(p => new Sgd(p, learningRate: 0.05, momentum: 0.8), steps: 300);
        AssertClose(LeastSquares(x, y), fitted, 1e-8);
    }

    [Fact]
    public void AdamWithCosineDecayConvergesToLeastSquares()
    {
        var (x, y) = Data();
        var fitted = Fit(p => new Adam(p, learningRate: 0.05), steps: 800, LearningRateSchedule.Cosine(0.05, 800));
        AssertClose(LeastSquares(x, y), fitted, 1e-4);
    }
}
