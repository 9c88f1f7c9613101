using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>Python's <c>act[:, pos] = value</c> in place (the indexer's setter, <see cref="Tensor.IndexPut_(TensorIndex[], Tensor)"/>):
/// the values land in the tensor itself, gradients reach the kept and the written parts (against gradients derived by
/// hand), earlier ops keep the gradient of the values they saw, and a write into a tensor saved for backward is refused
/// at backward, on both backends.</summary>
public sealed class InPlaceWriteParityTests
{
    public static TheoryData<string> Devices() => new() { "cpu", "torch" };

    private static Device Dev(string name) => name == "cpu" ? Device.Cpu : Device.TorchCpu;

    private static double[] Values(Tensor t) => t.To(Device.Cpu).ToArray<double>();

    private static Tensor Make(double[] data, Device dev, params long[] shape) => Tensor.FromArray(data, shape).To(dev);

    [Theory, MemberData(nameof(Devices))]
    public void TheSetterWritesIntoTheTensorAndItsViews(string device)
    {
        var dev = Dev(device);
        var x = Make([.. Enumerable.Range(0, 12).Select(i => (double)i)], dev, 3, 4);
        var alias = x.T; // a view: sees the write
        x[Range.All, 1..3] = Make([-1.0, -2.0], dev, 2);
        Assert.Equal([0.0, -1, -2, 3, 4, -1, -2, 7, 8, -1, -2, 11], Values(x));
        Assert.Equal(-2.0, Values(alias)[2 * 3 + 1]); // alias[2, 1] is x[1, 2]
        x.IndexPut_([1], 9.0);
        Assert.Equal([0.0, -1, -2, 3, 9, 9, 9, 9, 8, -1, -2, 11], Values(x));
        x[-1, -1] = Make([5.0], dev, 1);
        Assert.Equal(5.0, Values(x)[11]);
        Assert.Throws<ArgumentException>(() => x[Range.All, 1..3] = Make([1.0, 2.0, 3.0], dev, 3));
    }

    [Theory, MemberData(nameof(Devices))]
    public void SelectOfAStridedSliceIsAView(string device)
    {
        var dev = Dev(device);
        var x = Make([.. Enumerable.Range(0, 12).Select(i => (double)i)], dev, 3, 4);
        var column = x[Range.All, 1..3].Select(1, 0); // x[:, 1]: strided, used to be a copy
        Assert.Equal([1.0, 5, 9], Values(column));
        column[1] = Make([100.0], dev, 1);
        Assert.Equal(100.0, Values(x)[5]);
        var row = x.T.Select(1, 2); // x[2, :] through a transpose
        row[0] = Make([-7.0], dev, 1);
        Assert.Equal(-7.0, Values(x)[8]);
    }

    /// <summary>a = s·x (a non-leaf), a[:, 1:3] = v ([3, 1], broadcast), L = Σ w·a². By hand: ∂L/∂x = 2·w·a·s outside
    /// the region and 0 inside; ∂L/∂v_i = Σ_{j∈{1,2}} 2·w_ij·v_i.</summary>
    [Theory, MemberData(nameof(Devices))]
    public void GradientsReachTheKeptAndTheWrittenParts(string device)
    {
        var dev = Dev(device);
        var rng = new Random(5);
        double[] xs = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() - 0.5)];
        double[] vs = [.. Enumerable.Range(0, 3).Select(_ => rng.NextDouble() - 0.5)];
        double[] ws = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() + 0.5)];
        const double s = 1.7;
        var x = Make(xs, dev, 3, 4).RequiresGrad_();
        var v = Make(vs, dev, 3, 1).RequiresGrad_();
        var a = x * s;
        a[Range.All, 1..3] = v;
        Assert.Equal("index_put_", a.GradFnName);
        (Make(ws, dev, 3, 4) * a * a).Sum().Backward();
        var gx = Values(x.Grad!);
        var gv = Values(v.Grad!);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
            {
                int k = i * 4 + j;
                double expected = j is 1 or 2 ? 0 : 2 * ws[k] * xs[k] * s * s;
                Assert.True(Math.Abs(gx[k] - expected) < 1e-9, $"dL/dx[{i},{j}]: {gx[k]} vs {expected}");
            }
        for (int i = 0; i < 3; i++)
        {
            double expected = 2 * (ws[i * 4 + 1] + ws[i * 4 + 2]) * vs[i];
            Assert.True(Math.Abs(gv[i] - expected) < 1e-9, $"dL/dv[{i}]: {gv[i]} vs {expected}");
        }
    }

    /// <summary>b = x + 0 (non-leaf); y = b + 1 before the write; b.T[1] = u writes column 1 of b through a transposed
    /// view; L = Σy + Σ w·b² + Σ c·(b.T)² read after. By hand: y saw the old b, so ∂L/∂x = 1 everywhere plus
    /// 2·(w + cᵀ)·x outside column 1; ∂L/∂u_i = 2·(w_i1 + c_1i)·u_i.</summary>
    [Theory, MemberData(nameof(Devices))]
    public void AWriteThroughAViewRebasesTheBaseAndEarlierOpsKeepTheOldValues(string device)
    {
        var dev = Dev(device);
        var rng = new Random(11);
        double[] xs = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() - 0.5)];
        double[] us = [.. Enumerable.Range(0, 3).Select(_ => rng.NextDouble() - 0.5)];
        double[] ws = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() + 0.5)];
        double[] cs = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() + 0.5)]; // [4, 3]
        var x = Make(xs, dev, 3, 4).RequiresGrad_();
        var u = Make(us, dev, 3).RequiresGrad_();
        var b = x + 0.0;
        var y = b + 1.0;
        var view = b.T;
        view[1] = u;
        Assert.Equal("copy_slices", b.GradFnName);
        var loss = y.Sum() + (Make(ws, dev, 3, 4) * b * b).Sum() + (Make(cs, dev, 4, 3) * view * view).Sum();
        loss.Backward();
        var gx = Values(x.Grad!);
        var gu = Values(u.Grad!);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
            {
                int k = i * 4 + j;
                double expected = 1 + (j == 1 ? 0 : 2 * (ws[k] + cs[j * 3 + i]) * xs[k]);
                Assert.True(Math.Abs(gx[k] - expected) < 1e-9, $"dL/dx[{i},{j}]: {gx[k]} vs {expected}");
            }
        for (int i = 0; i < 3; i++)
        {
            double expected = 2 * (ws[i * 4 + 1] + cs[3 + i]) * us[i];
            Assert.True(Math.Abs(gu[i] - expected) < 1e-9, $"dL/du[{i}]: {gu[i]} vs {expected}");
        }
    }

    [Theory, MemberData(nameof(Devices))]
    public void AWriteIntoATensorSavedForBackwardIsRefusedAtBackward(string device)
    {
        var dev = Dev(device);
        var x = Make([0.1, 0.2, 0.3, 0.4], dev, 2, 2).RequiresGrad_();
        var e = x.Exp(); // exp's backward reads its output
        var loss = e.Sum();
        e[0] = Make([0.0], dev, 1);
        var thrown = Assert.Throws<InPlaceModificationException>(() => (loss + e.Sum()).Backward());
        Assert.Equal("exp", thrown.Op);
        Assert.Contains("use IndexPut, or clone before writing", thrown.Message);

        var a = x * 2.0;
        var sq = a * a; // mul saves both operands
        a.T[1] = Make([0.0], dev, 1); // through another view of the same storage
        var viaView = Assert.Throws<InPlaceModificationException>(() => sq.Sum().Backward());
        Assert.Equal("mul", viaView.Op);

        var c = x * 3.0;
        var kept = c + 1.0; // add saves nothing: the write is fine
        c[0, 0] = Make([5.0], dev, 1);
        x.ZeroGrad();
        kept.Sum().Backward();
        Assert.Equal([3.0, 3, 3, 3], Values(x.Grad!));
    }

    [Theory, MemberData(nameof(Devices))]
    public void LeavesThatRequireGradientsAndExpandedViewsAreRefused(string device)
    {
        var dev = Dev(device);
        var x = Make([1.0, 2, 3, 4], dev, 4).RequiresGrad_();
        var leaf = Assert.Throws<InvalidOperationException>(() => x[0] = Make([0.0], dev, 1));
        Assert.Contains("GradMode.NoGrad()", leaf.Message);
        using (GradMode.NoGrad()) x[0] = Make([9.0], dev, 1); // initialising under no-grad is allowed
        Assert.Equal(9.0, Values(x)[0]);
        var wide = (x * 1.0).Unsqueeze(0).Expand(3, 4);
        var expanded = Assert.Throws<InvalidOperationException>(() => wide[0, 0] = Make([0.0], dev, 1));
        Assert.Contains("expanded", expanded.Message);
    }

    /// <summary>A hook that writes one position in place and returns nothing gives the same activation and the same
    /// gradient to the patched-in value as the out-of-place <see cref="Tensor.IndexPut"/>.</summary>
    [Fact]
    public void AHookWritesInPlaceAsPythonDoes()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        const string point = "blocks.1.hook_resid_pre";
        using var clean = model.RunWithCache(input, n => n == point).Cache;
        var source = clean[point].Narrow(0, 1, 1);
        (Tensor Logits, Tensor Grad) Run(bool inPlace)
        {
            var patch = source[.., 3].Detach().RequiresGrad_(); // [1, 64]
            var logits = model.RunWithHooks(input, (point, (act, h) =>
            {
                if (!inPlace) return act.IndexPut([Range.All, 3], patch);
                act[Range.All, 3] = patch;
                return null;
            }));
            logits.LogSoftmax(-1)[.., ^1, 7].Sum().Backward();
            return (logits.Detach(), patch.Grad!);
        }
        var (inPlaceLogits, inPlaceGrad) = Run(true);
        var (outLogits, outGrad) = Run(false);
        HookTestUtil.Identical(inPlaceLogits, outLogits, "logits");
        ParityCloseness(outGrad, inPlaceGrad);
        Assert.True(inPlaceGrad.Abs().Sum().Item<float>() > 0, "the patched value gets a gradient");
    }

    private static void ParityCloseness(Tensor expected, Tensor actual) =>
        Torch.ParityHarness.AssertClose("patch gradient", expected.ToArray<double>(), actual.ToArray<double>(), 1e-5, 1e-7);
}
