using MechInterp.Optim;
using Xunit;
using Xunit.Sdk;

namespace MechInterp.Tests.Optim;

/// <summary>
/// Adam and AdamW through the fused in-place update (<c>IBackend.AdamStepInPlace</c>) on both backends and through the
/// composite fallback (non-contiguous parameters), over several steps, against PyTorch's update formulas computed here
/// in double (torch.optim.Adam / AdamW, no amsgrad).
/// </summary>
public class FusedAdamTests
{
    private const int Steps = 5;

    /// <summary>PyTorch's Adam/AdamW by hand, in double, from the (already dtype-rounded) values.</summary>
    private static double[] Hand(double[] p0, double[][] grads, double lr, double b1, double b2, double eps, double wd, bool decoupled)
    {
        var p = (double[])p0.Clone();
        var m = new double[p.Length];
        var v = new double[p.Length];
        for (int t = 1; t <= grads.Length; t++)
            for (int i = 0; i < p.Length; i++)
            {
                double g = grads[t - 1][i];
                if (decoupled) p[i] *= 1 - lr * wd;
                else g += wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.Pow(b1, t)), vHat = v[i] / (1 - Math.Pow(b2, t));
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        return p;
    }

    private static double[] Seeded(ulong seed, int n, double scale, DType dtype)
    {
        var gen = new Generator(seed);
        return Enumerable.Range(0, n).Select(_ => Round(scale * gen.NextNormal(), dtype)).ToArray();
    }

    private static double Round(double v, DType dtype) => dtype == DType.Float32 ? (float)v : v;

    private static Tensor Make(double[] values, long[] shape, DType dtype, Device device) =>
        dtype == DType.Float32
            ? Tensor.FromArray(values.Select(v => (float)v).ToArray(), shape, DType.Float32, device)
            : Tensor.FromArray(values, shape, DType.Float64, device);

    /// <summary>Runs <see cref="Steps"/> steps with seeded gradients (set through the engine: L = Σ p ⊙ g) and
    /// compares the parameter with <see cref="Hand"/> after every step.</summary>
    private static void Run(string device, string dtypeName, int n, bool transposed, bool decoupled, double wd)
    {
        var dev = device == "cpu" ? Device.Cpu : Device.TorchCpu;
        var dtype = dtypeName == "f32" ? DType.Float32 : DType.Float64;
        const double lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-6;
        long[] shape = transposed ? [n / 2, 2] : [n];
        var p0 = Seeded(3, n, 1.0, dtype);
        var grads = Enumerable.Range(0, Steps).Select(t => Seeded(100 + (ulong)t, n, t % 2 == 0 ? 1.0 : 1e-3, dtype)).ToArray();
        if (n > 2) grads[1][2] = 0; // a zero gradient: the update is m/(√v + eps) with a decayed m
        Tensor p;
        using (GradMode.NoGrad())
            p = transposed ? Make(p0, [2, n / 2], dtype, dev).T : Make(p0, shape, dtype, dev); // .T: a non-contiguous leaf
        p.DetachFromScopes().RequiresGrad_();
        // With a transposed parameter the row-major values are p0 read column-major: compare in that order.
        var order = transposed ? Enumerable.Range(0, n).Select(i => (i % 2) * (n / 2) + i / 2).ToArray() : Enumerable.Range(0, n).ToArray();
        Optimizer opt = decoupled ? new AdamW([p], lr, b1, b2, eps, wd) : new Adam([p], lr, b1, b2, eps, wd);
        double tol = dtype == DType.Float32 ? 2e-6 : 1e-13;
        for (int t = 0; t < Steps; t++)
        {
            using (var scope = Tensor.Scope())
            {
                p.ZeroGrad();
                var g = Make(order.Select(i => grads[t][i]).ToArray(), shape, dtype, dev);
                (p * g).Sum().Backward();
                opt.Step();
            }
            var expected = Hand(p0, grads[..(t + 1)], lr, b1, b2, eps, wd, decoupled);
            var actual = p.ToArray<double>();
            for (int k = 0; k < n; k++)
            {
                double e = expected[order[k]];
                if (!(Math.Abs(e - actual[k]) <= tol * Math.Max(1, Math.Abs(e))))
                    throw new XunitException($"{(decoupled ? "AdamW" : "Adam")} {device} {dtypeName} n={n} transposed={transposed} step {t + 1}: [{k}] expected {e:R}, got {actual[k]:R}");
            }
            Assert.Equal(dev, p.Device);
            Assert.Equal(dtype, p.DType);
        }
        p.ZeroGrad();
        p.Dispose();
    }

    [Theory]
    [InlineData("cpu", "f64", 3, false, 0.0)]
    [InlineData("cpu", "f64", 7, false, 0.3)]
    [InlineData("cpu", "f32", 70001, false, 0.1)]
    [InlineData("cpu", "f64", 8, true, 0.3)]
    [InlineData("torch", "f64", 7, false, 0.3)]
    [InlineData("torch", "f32", 70001, false, 0.1)]
    [InlineData("torch", "f32", 8, true, 0.3)]
    public void AdamMatchesPyTorchFormulasOverSeveralSteps(string device, string dtype, int n, bool transposed, double wd) =>
        Run(device, dtype, n, transposed, decoupled: false, wd);

    [Theory]
    [InlineData("cpu", "f64", 7, false, 0.0)]
    [InlineData("cpu", "f64", 7, false, 0.5)]
    [InlineData("cpu", "f32", 70001, false, 0.01)]
    [InlineData("cpu", "f32", 8, true, 0.5)]
    [InlineData("torch", "f64", 7, false, 0.5)]
    [InlineData("torch", "f32", 70001, false, 0.01)]
    [InlineData("torch", "f64", 8, true, 0.5)]
    public void AdamWMatchesPyTorchFormulasOverSeveralSteps(string device, string dtype, int n, bool transposed, double wd) =>
        Run(device, dtype, n, transposed, decoupled: true, wd);

    [Theory]
    [InlineData("cpu")]
    [InlineData("torch")]
    public void UpdateIsInPlaceLikePyTorch(string device)
    {
        // torch.optim writes into the parameter's storage: a view taken before the step sees the new values, and the
        // optimizer keeps working on the same tensor object.
        var dev = device == "cpu" ? Device.Cpu : Device.TorchCpu;
        using var p = Tensor.FromArray(new float[] { 1, -2, 3, -4 }, [4], DType.Float32, dev).DetachFromScopes().RequiresGrad_();
        using var view = p.Detach().DetachFromScopes();
        var opt = new Adam([p], learningRate: 0.5);
        using (var scope = Tensor.Scope())
        {
            (p * p).Sum().Backward(); // g = 2p: the first Adam step moves each entry by lr·sign(g)
            opt.Step();
        }
        // The first step moves each entry by lr·sign(g) up to float32 rounding (torch.optim.Adam 1.13: [0.50000006, -1.5, 2.5, -3.5]).
        Assert.Equal(new[] { 0.5f, -1.5f, 2.5f, -3.5f }, p.ToArray<float>(), (a, b) => Math.Abs(a - b) <= 1e-6f);
        Assert.Equal(p.ToArray<float>(), view.ToArray<float>());
        Assert.Same(p, opt.Tensors[0]);
        p.ZeroGrad();
    }
}
