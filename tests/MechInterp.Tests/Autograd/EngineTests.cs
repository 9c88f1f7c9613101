using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>The autograd engine's behaviour, checked against hand-computed gradients: hooks, RetainGrad, NoGrad,
/// Detach, accumulation, casts and error messages.</summary>
public class EngineTests
{
    private static Tensor Vec(params double[] v) => Tensor.FromArray(v, [v.Length], DType.Float64, Device.Cpu);

    private static void Close(double[] expected, Tensor? actual, double tol = 1e-12)
    {
        Assert.NotNull(actual);
        var a = actual!.ToArray<double>();
        Assert.Equal(expected.Length, a.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(expected[i] - a[i]) <= tol, $"element {i}: expected {expected[i]}, got {a[i]}");
    }

    [Fact]
    public void GradHookReplacesTheGradientSeenUpstream()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2, 3).RequiresGrad_();
        var y = x * 2.0;                       // dy/dx = 2
        double[]? seen = null;
        using (y.RegisterGradHook(g => { seen = g.ToArray<double>(); return g * 10.0; }))
            (y.Square()).Sum().Backward();     // dL/dy = 2y = 4x
        Assert.Equal(new[] { 4.0, 8, 12 }, seen);
        Close([80, 160, 240], x.Grad);         // 10 * 4x * 2

        x.ZeroGrad();
        (x * 2.0).Square().Sum().Backward();   // a fresh graph has no hook
        Close([8, 16, 24], x.Grad);
    }

    [Fact]
    public void GradHookOnLeafChangesTheAccumulatedGradientAndRemovingItRestoresIt()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, -2).RequiresGrad_();
        var hook = x.RegisterGradHook(g => Tensor.ZerosLike(g) + 5.0);
        x.Square().Sum().Backward();
        Close([5, 5], x.Grad);
        hook.Dispose();
        x.ZeroGrad();
        x.Square().Sum().Backward();
        Close([2, -4], x.Grad);
    }

    [Fact]
    public void GradHookReturningNullKeepsTheGradientAndWrongShapeThrows()
    {
        using var scope = Tensor.Scope();
        var x = Vec(3).RequiresGrad_();
        using (x.RegisterGradHook(_ => null)) x.Square().Sum().Backward();
        Close([6], x.Grad);
        using var bad = x.RegisterGradHook(_ => Vec(1, 2));
        var e = Assert.Throws<InvalidOperationException>(() => x.Square().Sum().Backward());
        Assert.Contains("hook", e.Message);
    }

    [Fact]
    public void RetainGradKeepsTheGradientOfAnIntermediate()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2, 3).RequiresGrad_();
        var y = (x * 3.0).RetainGrad();
        var z = (x * 7.0);                      // not retained
        (y.Square() + z).Sum().Backward();      // dL/dy = 2y = 6x
        Close([6, 12, 18], y.Grad);
        Assert.Null(z.Grad);
        Close([18 + 7, 36 + 7, 54 + 7], x.Grad);
        Assert.False(y.IsLeaf);
        Assert.True(x.IsLeaf);
    }

    [Fact]
    public void NoGradScopeRecordsNothingAndRestoresOnDispose()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2).RequiresGrad_();
        Tensor y;
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            using (GradMode.NoGrad()) y = x * 2.0;  // nested
            Assert.False(GradMode.IsEnabled);
            Assert.False((x * 3.0).RequiresGrad);
        }
        Assert.True(GradMode.IsEnabled);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFnName);
        var e = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("does not require gradients", e.Message);
        Assert.True((x * 2.0).RequiresGrad);
    }

    [Fact]
    public void DetachCutsTheGraphButSharesValues()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2, 3).RequiresGrad_();
        var d = x.Detach();
        Assert.False(d.RequiresGrad);
        Assert.True(d.IsLeaf);
        Assert.Equal(new[] { 1.0, 2, 3 }, d.ToArray<double>());
        (x * d).Sum().Backward();               // d is a constant: dL/dx = d = x
        Close([1, 2, 3], x.Grad);
        var y = (x * x).Detach();
        Assert.Null(y.GradFnName);
        Assert.False(y.RequiresGrad);
    }

    [Fact]
    public void TwoBackwardCallsAccumulate()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2).RequiresGrad_();
        var w = Vec(3, 4).RequiresGrad_();
        var loss = (x * w).Sum();
        loss.Backward();
        loss.Backward();                        // same graph twice
        Close([6, 8], x.Grad);
        Close([2, 4], w.Grad);
        x.Square().Sum().Backward();            // another graph adds 2x
        Close([8, 12], x.Grad);
        x.ZeroGrad();
        Assert.Null(x.Grad);
    }

    [Fact]
    public void BackwardWithExplicitGradientOnNonScalar()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2, 3).RequiresGrad_();
        x.Square().Backward(Vec(1, 0.5, -1));
        Close([2, 2, -6], x.Grad);
        var e = Assert.Throws<ArgumentException>(() => x.Square().Backward(Vec(1, 2)));
        Assert.Contains("does not match", e.Message);
    }

    [Fact]
    public void BackwardOnNonScalarWithoutGradientThrowsAClearMessage()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2, 3).RequiresGrad_();
        var e = Assert.Throws<InvalidOperationException>(() => (x * 2.0).Backward());
        Assert.Contains("needs a scalar", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void BackwardOnTensorWithoutRequiresGradThrowsAClearMessage()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1, 2, 3);
        var e = Assert.Throws<InvalidOperationException>(() => x.Sum().Backward());
        Assert.Contains("does not require gradients", e.Message);
        Assert.Contains("RequiresGrad", e.Message);
    }

    [Fact]
    public void RequiresGradRules()
    {
        using var scope = Tensor.Scope();
        var ints = Tensor.FromArray(new long[] { 1, 2 }, 2);
        Assert.Throws<InvalidOperationException>(() => ints.RequiresGrad = true);
        var x = Vec(1).RequiresGrad_();
        var y = x * 2.0;
        Assert.Throws<InvalidOperationException>(() => y.RequiresGrad = false);
    }

    [Fact]
    public void CastsPassGradientsBackInTheSourceDType()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1.5, -2).RequiresGrad_();
        var w = Tensor.FromArray(new float[] { 3, 5 }, 2);
        (x.To(DType.Float32) * w).Sum().Backward();
        Assert.Equal(DType.Float64, x.Grad!.DType);
        Close([3, 5], x.Grad);

        var f = Tensor.FromArray(new float[] { 0.5f, 2f }, 2).RequiresGrad_();
        f.To(DType.Float64).Square().Sum().Backward();
        Assert.Equal(DType.Float32, f.Grad!.DType);
        Assert.Equal(new[] { 1f, 4f }, f.Grad.ToArray<float>());
    }

    [Fact]
    public void IntegerCastStopsTheGradient()
    {
        using var scope = Tensor.Scope();
        var x = Vec(1.5, 2.5).RequiresGrad_();
        Assert.False(x.To(DType.Int64).RequiresGrad);
    }

    [Fact]
    public void GradientOfSharedSubexpressionSumsOverPaths()
    {
        using var scope = Tensor.Scope();
        var x = Vec(2).RequiresGrad_();
        var a = x.Square();                     // x²
        var b = a * a + a * x;                  // x⁴ + x³ → 4x³ + 3x² = 32 + 12
        b.Sum().Backward();
        Close([44], x.Grad);
    }
}
