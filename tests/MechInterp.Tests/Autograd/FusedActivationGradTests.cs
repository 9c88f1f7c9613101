using MechInterp.Backends;
using MechInterp.Tests.Torch;
using Xunit;
using Xunit.Sdk;

namespace MechInterp.Tests.Autograd;

/// <summary>
/// The fused ReLU and |x| backward (<c>IBackend.UnaryBackward</c>): float64 central finite differences through the
/// layouts the kernel special-cases (dense gradient, broadcast gradient from a sum, strided input, vector tails),
/// the derivative definitions at the kink (PyTorch's: relu'(0) = 0, |x|'(0) = sign(0) = 0) on both backends, and
/// managed against libtorch on a tensor large enough for the parallel vector path.
/// </summary>
public class FusedActivationGradTests
{
    private static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["relu, dense gradient, vector tail"] = new(x => x[0].Relu() * x[0], Arg.AwayFromZero(3, 37)),
        ["abs, dense gradient, vector tail"] = new(x => x[0].Abs() * x[0], Arg.AwayFromZero(3, 37)),
        ["relu through sum (broadcast gradient)"] = new(x => x[0].Relu().Sum(-1), Arg.AwayFromZero(5, 19)),
        ["abs through sum (broadcast gradient), SAE L1"] = new(x => x[0].Abs().Sum(-1).Mean() * 5.0, Arg.AwayFromZero(5, 19)),
        ["relu on transposed input"] = new(x => x[0].T.Relu(), Arg.AwayFromZero(6, 5)),
        ["abs on strided slice"] = new(x => x[0].Slice(1, 1, 7, 3).Abs(), Arg.AwayFromZero(4, 8)),
        ["relu then abs, accumulated gradient"] = new(x =>
        {
            var f = (x[0].MatMul(x[1]) + x[2]).Relu();
            return f.MatMul(x[1].T) + f.Abs().Sum(-1, keepDim: true);
        }, Arg.Of(4, 3), Arg.AwayFromZero(3, 9), Arg.Of(9)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);

    public static TheoryData<string> Devices => ["cpu", "torch"];

    private static Device DeviceOf(string name) => name == "cpu" ? Device.Cpu : Device.TorchCpu;

    [Theory]
    [MemberData(nameof(Devices))]
    public void KinkAtZeroFollowsPyTorch(string device)
    {
        // d relu(x)/dx and d|x|/dx at x = 0 are 0 in PyTorch (threshold_backward, sgn); ±1 and pass-through elsewhere.
        using var scope = Tensor.Scope();
        var dev = DeviceOf(device);
        double[] xs = [-2, -0.0, 0.0, 1e-30, 3, -1e-30];
        var x = Tensor.FromArray(xs, [6], DType.Float64, dev).RequiresGrad_();
        var w = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }, [6], DType.Float64, dev);
        ((x.Relu() + x.Abs() * 10.0) * w).Sum().Backward();
        double[] expected = xs.Select((v, i) => (i + 1) * ((v > 0 ? 1.0 : 0.0) + 10.0 * (v > 0 ? 1 : v < 0 ? -1 : 0))).ToArray();
        Assert.Equal(expected, x.Grad!.ToArray<double>());
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void ReluBackwardGivesZeroNotNaNWhereTheInputIsNegative(string device)
    {
        // threshold_backward semantics: a masked-off position gets exactly 0 even when the incoming gradient is inf.
        using var scope = Tensor.Scope();
        var dev = DeviceOf(device);
        var x = Tensor.FromArray(new float[] { -1, 2 }, [2], DType.Float32, dev);
        var g = Tensor.FromArray(new float[] { float.PositiveInfinity, float.PositiveInfinity }, [2], DType.Float32, dev);
        var r = new Tensor(x.Backend.UnaryBackward(UnaryGradOp.Relu, g.Handle, x.Handle));
        Assert.Equal(new[] { 0f, float.PositiveInfinity }, r.ToArray<float>());
    }

    /// <summary>Backend primitive against the definition computed here in double, and managed against libtorch:
    /// 1000×131 float32 (parallel, vector body and tail), gradient dense, broadcast along rows (stride 0) and
    /// transposed.</summary>
    [Theory]
    [InlineData("Relu", "dense")]
    [InlineData("Relu", "row-broadcast")]
    [InlineData("Relu", "transposed")]
    [InlineData("Abs", "dense")]
    [InlineData("Abs", "row-broadcast")]
    [InlineData("Abs", "transposed")]
    public void PrimitiveMatchesDefinitionOnBothBackends(string opName, string layout)
    {
        var op = Enum.Parse<UnaryGradOp>(opName);
        const int rows = 1000, cols = 131;
        using var scope = Tensor.Scope();
        Tensor Grad(Device d) => layout switch
        {
            "dense" => ParityHarness.Randn(d, 5, rows, cols),
            "row-broadcast" => ParityHarness.Randn(d, 5, rows, 1).Expand([rows, cols]),
            _ => ParityHarness.Randn(d, 5, cols, rows).T,
        };
        Tensor Input(Device d)
        {
            var x = ParityHarness.Randn(d, 6, rows, cols);
            return Tensor.Where(x.Abs() < 0.05, Tensor.ZerosLike(x), x); // some exact zeros (the kink)
        }
        var results = new List<double[]>();
        foreach (var d in new[] { Device.Cpu, Device.TorchCpu })
        {
            var g = Grad(d);
            var x = Input(d);
            var r = new Tensor(x.Backend.UnaryBackward(op, g.Handle, x.Handle));
            Assert.Equal([rows, cols], r.Shape);
            var gv = g.Contiguous().ToArray<float>();
            var xv = x.ToArray<float>();
            var expected = new double[gv.Length];
            for (int i = 0; i < gv.Length; i++)
                expected[i] = op == UnaryGradOp.Relu ? (xv[i] > 0 ? gv[i] : 0) : gv[i] * (double)Math.Sign(xv[i]);
            var actual = r.ToArray<double>();
            for (int i = 0; i < expected.Length; i++)
                if ((float)expected[i] != (float)actual[i])
                    throw new XunitException($"{op} {layout} on {d}: [{i}] x = {xv[i]}, g = {gv[i]}: expected {expected[i]}, got {actual[i]}");
            results.Add(actual);
        }
        ParityHarness.AssertClose($"{op} {layout} managed vs libtorch", results[0], results[1], 0, 0);
    }
}
