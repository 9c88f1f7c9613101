using MechInterp.Optim;
using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Gradients where finite differences do not apply (kinks, ties, zeros, 0-d tensors, mixed dtypes),
/// checked against hand values of PyTorch's conventions.</summary>
public class EdgeCaseGradTests
{
    private static Tensor Vec(params double[] v) => Tensor.FromArray(v, [v.Length], DType.Float64, Device.Cpu);

    private static double[] GradOf(Tensor x, Func<Tensor, Tensor> f)
    {
        x.ZeroGrad();
        f(x).Sum().Backward();
        return x.Grad!.ToArray<double>();
    }

    [Fact]
    public void KinksFollowPyTorchConventions()
    {
        using var scope = Tensor.Scope();
        var x = Vec(-1, 0, 2).RequiresGrad_();
        Assert.Equal(new[] { 0.0, 0, 1 }, GradOf(x, t => t.Relu()));           // relu'(0) = 0
        Assert.Equal(new[] { -1.0, 0, 1 }, GradOf(x, t => t.Abs()));           // |x|'(0) = 0
        Assert.Equal(new[] { 1.0, 1, 0 }, GradOf(x, t => t.Clamp(-1, 0)));     // bounds are inside
    }

    [Fact]
    public void TiesSplitTheGradientEvenly()
    {
        using var scope = Tensor.Scope();
        var a = Vec(1, 2, 3).RequiresGrad_();
        var b = Vec(1, 5, 0).RequiresGrad_();
        Tensor.Maximum(a, b).Sum().Backward();
        Assert.Equal(new[] { 0.5, 0, 1 }, a.Grad!.ToArray<double>());
        Assert.Equal(new[] { 0.5, 1, 0 }, b.Grad!.ToArray<double>());
        var x = Vec(4, 1, 4).RequiresGrad_();
        Assert.Equal(new[] { 0.5, 0, 0.5 }, GradOf(x, t => t.Max(0)));
    }

    [Fact]
    public void PowAtZeroBaseHasFiniteGradients()
    {
        using var scope = Tensor.Scope();
        var x = Vec(0, 2).RequiresGrad_();
        Assert.Equal(new[] { 0.0, 0 }, GradOf(x, t => t.Pow(0)));              // d/dx x⁰ = 0, also at 0
        Assert.Equal(new[] { 0.0, 4 }, GradOf(x, t => t.Pow(2)));
        var e = Vec(2, 3).RequiresGrad_();
        var b = Vec(0, 2).RequiresGrad_();
        b.Pow(e).Sum().Backward();
        Assert.Equal(new[] { 0.0, 12 }, b.Grad!.ToArray<double>());
        var ge = e.Grad!.ToArray<double>();
        Assert.Equal(0.0, ge[0]);                                              // 0^e·log 0 taken as 0 (PyTorch)
        Assert.Equal(8 * Math.Log(2), ge[1], 12);
    }

    [Fact]
    public void NormOfZeroVectorHasZeroGradient()
    {
        using var scope = Tensor.Scope();
        var x = Vec(0, 0, 0).RequiresGrad_();
        Assert.Equal(new[] { 0.0, 0, 0 }, GradOf(x, t => t.Norm()));
        var y = Tensor.FromArray(new double[] { 0, 0, 3, 4 }, [2, 2], DType.Float64, Device.Cpu).RequiresGrad_();
        y.Norm(2, 1).Sum().Backward();
        var g = y.Grad!.ToArray<double>();
        Assert.Equal(new[] { 0.0, 0 }, g[..2]);
        Assert.Equal(0.6, g[2], 14);
        Assert.Equal(0.8, g[3], 14);
    }

    [Fact]
    public void NormOverAllDimsWithKeepDimKeepsTheRank()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new double[] { 3, 0, 0, 4 }, [2, 2], DType.Float64, Device.Cpu).RequiresGrad_();
        var n = x.Norm(2, null, keepDim: true);
        Assert.Equal(new long[] { 1, 1 }, n.Shape);
        Assert.Equal(5.0, n.Item<double>(), 14);
        n.Backward(Tensor.Ones([1, 1], DType.Float64));
        var g = x.Grad!.ToArray<double>();
        Assert.Equal(0.6, g[0], 14);
        Assert.Equal(0.8, g[3], 14);
        Assert.Equal(new long[] { 1, 1 }, x.Norm(1, null, keepDim: true).Shape);
    }

    [Fact]
    public void ReducingDimZeroOfAZeroDimTensor()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new double[] { 3 }, [], DType.Float64, Device.Cpu).RequiresGrad_();
        foreach (var f in new Func<Tensor, Tensor>[] { t => t.Sum(0), t => t.Mean(0), t => t.Max(0), t => t.LogSumExp(0), t => t.Sum(0, keepDim: true) })
        {
            x.ZeroGrad();
            var r = f(x);
            Assert.Equal(0, r.Rank);
            r.Backward();
            Assert.Equal(0, x.Grad!.Rank);
            Assert.Equal(1.0, x.Grad.Item<double>());
        }
    }

    [Fact]
    public void MixedDTypeOpsGiveEachInputAGradientOfItsOwnDType()
    {
        using var scope = Tensor.Scope();
        var f = Tensor.FromArray(new float[] { 2, 3 }, 2).RequiresGrad_();
        var d = Vec(5, 7).RequiresGrad_();
        foreach (var (name, op, df, dd) in new (string, Func<Tensor, Tensor, Tensor>, double[], double[])[]
        {
            ("add", (a, b) => a + b, [1, 1], [1, 1]),
            ("sub", (a, b) => a - b, [1, 1], [-1, -1]),
            ("mul", (a, b) => a * b, [5, 7], [2, 3]),
            ("div", (a, b) => b / a, [-5.0 / 4, -7.0 / 9], [0.5, 1.0 / 3]),
            ("maximum", (a, b) => Tensor.Maximum(a, b), [0, 0], [1, 1]),
            ("pow", (a, b) => a.Pow(b * 0.2), [1 * Math.Pow(2, 0), 1.4 * Math.Pow(3, 0.4)], [0.2 * 2 * Math.Log(2), 0.2 * Math.Pow(3, 1.4) * Math.Log(3)]),
        })
        {
            f.ZeroGrad();
            d.ZeroGrad();
            op(f, d).Sum().Backward();
            Assert.True(f.Grad!.DType == DType.Float32, $"{name}: the float32 input got a {f.Grad.DType} gradient");
            Assert.True(d.Grad!.DType == DType.Float64, $"{name}: the float64 input got a {d.Grad.DType} gradient");
            var gf = f.Grad.ToArray<double>();
            var gd = d.Grad.ToArray<double>();
            for (int i = 0; i < 2; i++)
            {
                Assert.True(Math.Abs(gf[i] - df[i]) <= 1e-6 * Math.Max(1, Math.Abs(df[i])), $"{name}: d/df[{i}] = {gf[i]}, expected {df[i]}");
                Assert.True(Math.Abs(gd[i] - dd[i]) <= 1e-6 * Math.Max(1, Math.Abs(dd[i])), $"{name}: d/dd[{i}] = {gd[i]}, expected {dd[i]}");
            }
        }
    }

    [Fact]
    public void OptimizerKeepsAFloat32ParameterFloat32WhenTheLossIsFloat64()
    {
        using var scope = Tensor.Scope();
        var p = Tensor.FromArray(new float[] { 1, -1 }, 2).RequiresGrad_();
        var opt = new Adam([p], learningRate: 0.1);
        (p * Vec(2, 3)).Sum().Backward();
        opt.Step();
        Assert.Equal(DType.Float32, p.DType);
        // Adam's first step moves lr·sign(g), up to float32 rounding: torch.optim.Adam (1.13) gives [0.900000036, -1.10000002].
        Assert.Equal(new[] { 0.9f, -1.1f }, p.ToArray<float>(), (a, b) => Math.Abs(a - b) <= 1e-6f);
    }
}
