using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>Python's <c>act[:, pos] = value</c> as <see cref="Tensor.IndexPut"/>: the values land where Python puts them
/// and the gradients to the kept and the written parts match central finite differences, on both backends.</summary>
public sealed class IndexPutParityTests
{
    public static TheoryData<string> Devices() => new() { "cpu", "torch" };

    private static Device Dev(string name) => name == "cpu" ? Device.Cpu : Device.TorchCpu;

    [Theory, MemberData(nameof(Devices))]
    public void WritesTheRegionAndKeepsTheRest(string device)
    {
        var dev = Dev(device);
        var x = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 3, 4).To(dev);
        var put = x.IndexPut([Range.All, 1..3], Tensor.FromArray(new[] { -1.0, -2.0 }, 2).To(dev)).To(Device.Cpu).ToArray<double>();
        Assert.Equal([0.0, -1, -2, 3, 4, -1, -2, 7, 8, -1, -2, 11], put);
        var row = x.IndexPut([1], Tensor.FromArray(new[] { 9.0 }, 1).To(dev)).To(Device.Cpu).ToArray<double>();
        Assert.Equal([0.0, 1, 2, 3, 9, 9, 9, 9, 8, 9, 10, 11], row);
        var lastColumn = x.IndexPut([Range.All, -1], Tensor.FromArray(new[] { 5.0, 6.0, 7.0 }, 3).To(dev)).To(Device.Cpu).ToArray<double>();
        Assert.Equal([0.0, 1, 2, 5, 4, 5, 6, 6, 8, 9, 10, 7], lastColumn);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (double)i), x.To(Device.Cpu).ToArray<double>()); // the input is untouched
        Assert.Throws<ArgumentException>(() => x.IndexPut([Range.All, 1..3], Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }, 3).To(dev)));
    }

    [Theory, MemberData(nameof(Devices))]
    public void GradientsMatchFiniteDifferences(string device)
    {
        var dev = Dev(device);
        var rng = new Random(3);
        double[] xs = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() - 0.5)];
        double[] vs = [.. Enumerable.Range(0, 3).Select(_ => rng.NextDouble() - 0.5)]; // [3, 1] broadcast over 2 columns
        double[] ws = [.. Enumerable.Range(0, 12).Select(_ => rng.NextDouble() + 0.5)];
        // L = sum(w * put(x, [:, 1:3], v)^2): nonlinear, so both gradients depend on the values.
        double Loss(double[] xa, double[] va)
        {
            var put = Tensor.FromArray(xa, 3, 4).To(dev).IndexPut([Range.All, 1..3], Tensor.FromArray(va, 3, 1).To(dev));
            return (Tensor.FromArray(ws, 3, 4).To(dev) * put * put).Sum().To(Device.Cpu).Item<double>();
        }
        var x = Tensor.FromArray(xs, 3, 4).To(dev).RequiresGrad_();
        var v = Tensor.FromArray(vs, 3, 1).To(dev).RequiresGrad_();
        var y = x.IndexPut([Range.All, 1..3], v);
        (Tensor.FromArray(ws, 3, 4).To(dev) * y * y).Sum().Backward();
        var gx = x.Grad!.To(Device.Cpu).ToArray<double>();
        var gv = v.Grad!.To(Device.Cpu).ToArray<double>();
        const double h = 1e-6;
        for (int i = 0; i < xs.Length; i++)
        {
            var plus = (double[])xs.Clone(); plus[i] += h;
            var minus = (double[])xs.Clone(); minus[i] -= h;
            double fd = (Loss(plus, vs) - Loss(minus, vs)) / (2 * h);
            Assert.True(Math.Abs(fd - gx[i]) < 1e-6, $"dL/dx[{i}]: autograd {gx[i]} vs finite difference {fd}");
        }
        for (int i = 0; i < vs.Length; i++)
        {
            var plus = (double[])vs.Clone(); plus[i] += h;
            var minus = (double[])vs.Clone(); minus[i] -= h;
            double fd = (Loss(xs, plus) - Loss(xs, minus)) / (2 * h);
            Assert.True(Math.Abs(fd - gv[i]) < 1e-6, $"dL/dv[{i}]: autograd {gv[i]} vs finite difference {fd}");
        }
        Assert.Equal(0.0, gx[1]); // written positions get nothing through x
    }

    [Fact]
    public void AHookPatchesOnePositionTheWayPythonWritesIt()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        const string point = "blocks.1.hook_resid_pre";
        using var clean = model.RunWithCache(input, n => n == point).Cache;
        var source = clean[point].Narrow(0, 1, 1); // row 1 as the clean run, [1, 12, 64]
        Tensor? seen = null;
        model.RunWithHooks(input,
            (point, (act, h) => act.IndexPut([Range.All, 3], source[.., 3])),
            (point, (act, h) => { seen = act.Detach(); return null; }));
        Assert.NotNull(seen);
        HookTestUtil.Identical(seen.Select(1, 3), source.Select(1, 3).Expand(2, 64), "patched position");
        HookTestUtil.Identical(seen.Narrow(1, 0, 3), clean[point].Narrow(1, 0, 3), "positions before");
        HookTestUtil.Identical(seen.Narrow(1, 4, 8), clean[point].Narrow(1, 4, 8), "positions after");
    }
}
