using MechInterp.Backends;
using MechInterp.Tests.Torch;
using Xunit;
using Xunit.Sdk;

namespace MechInterp.Tests.Autograd;

/// <summary>
/// The fused tanh-GELU, SiLU and exact-GELU backward (<c>IBackend.UnaryBackward</c>): float64 central finite differences through
/// dense, broadcast (a sum's) and strided gradients, rows longer than one 256-element chunk with a vector tail; and the
/// float32 primitive on both backends against the derivative computed here in double with Math.Tanh / Math.Exp (and,
/// for GELU, an erfc of our own: a series below 2.5, a continued fraction above).
/// </summary>
public class SmoothActivationGradTests
{
    private static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["gelu_tanh, dense gradient, chunk + tail"] = new(x => x[0].GeluTanh() * x[0], Arg.Of(3, 301)),
        ["silu, dense gradient, chunk + tail"] = new(x => x[0].Silu() * x[0], Arg.Of(3, 301)),
        ["gelu, dense gradient, chunk + tail"] = new(x => x[0].Gelu() * x[0], Arg.Of(3, 301)),
        ["gelu on transposed input, through sum"] = new(x => x[0].T.Gelu().Sum(-1), Arg.Of(6, 5)),
        ["gelu_tanh through sum (broadcast gradient)"] = new(x => x[0].GeluTanh().Sum(-1), Arg.Of(5, 19)),
        ["silu through sum (broadcast gradient)"] = new(x => x[0].Silu().Sum(-1), Arg.Of(5, 19)),
        ["gelu_tanh on transposed input"] = new(x => x[0].T.GeluTanh(), Arg.Of(6, 5)),
        ["silu on strided slice"] = new(x => x[0].Slice(1, 1, 7, 3).Silu(), Arg.Of(4, 8)),
        ["gelu_tanh MLP, accumulated gradient"] = new(x =>
        {
            var h = (x[0].MatMul(x[1]) + x[2]).GeluTanh();
            return h.MatMul(x[1].T) + h.Silu().Sum(-1, keepDim: true);
        }, Arg.Of(4, 3), Arg.Of(3, 9), Arg.Of(9)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);

    private static double Derivative(UnaryGradOp op, double x)
    {
        if (op == UnaryGradOp.Gelu) return 0.5 * Erfc(-x / Math.Sqrt(2)) + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);
        if (op == UnaryGradOp.Silu)
        {
            double s = 1 / (1 + Math.Exp(-x));
            return s + x * s * (1 - s);
        }
        const double c = 0.7978845608028654, k = 0.044715;
        double t = Math.Tanh(c * (x + k * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * k * x * x);
    }

    [Theory]
    [InlineData("GeluTanh", "dense")]
    [InlineData("GeluTanh", "row-broadcast")]
    [InlineData("GeluTanh", "transposed")]
    [InlineData("Silu", "dense")]
    [InlineData("Silu", "row-broadcast")]
    [InlineData("Silu", "transposed")]
    [InlineData("Gelu", "dense")]
    [InlineData("Gelu", "row-broadcast")]
    [InlineData("Gelu", "transposed")]
    public void PrimitiveMatchesDefinitionOnBothBackends(string opName, string layout)
    {
        var op = Enum.Parse<UnaryGradOp>(opName);
        const int rows = 700, cols = 301;
        using var scope = Tensor.Scope();
        Tensor Grad(Device d) => layout switch
        {
            "dense" => ParityHarness.Randn(d, 5, rows, cols),
            "row-broadcast" => ParityHarness.Randn(d, 5, rows, 1).Expand([rows, cols]),
            _ => ParityHarness.Randn(d, 5, cols, rows).T,
        };
        var results = new List<double[]>();
        foreach (var d in new[] { Device.Cpu, Device.TorchCpu })
        {
            var g = Grad(d);
            var x = ParityHarness.Randn(d, 6, rows, cols) * 4.0; // well into both tails of tanh and sigmoid
            var r = new Tensor(x.Backend.UnaryBackward(op, g.Handle, x.Handle));
            Assert.Equal([rows, cols], r.Shape);
            var gv = g.Contiguous().ToArray<float>();
            var xv = x.ToArray<float>();
            var actual = r.ToArray<double>();
            for (int i = 0; i < gv.Length; i++)
            {
                double expected = gv[i] * Derivative(op, xv[i]);
                if (Math.Abs(expected - actual[i]) > 2e-6 * (1 + Math.Abs(expected)))
                    throw new XunitException($"{op} {layout} on {d}: [{i}] x = {xv[i]}, g = {gv[i]}: expected {expected}, got {actual[i]}");
            }
            results.Add(actual);
        }
        ParityHarness.AssertClose($"{op} {layout} managed vs libtorch", results[0], results[1], 4e-6, 4e-6);
    }

    /// <summary>erfc to ~1e-15, independent of the library's: the alternating Taylor series of erf for |z| &lt; 2.5, the
    /// Laplace continued fraction beyond.</summary>
    private static double Erfc(double z)
    {
        if (z < 0) return 2 - Erfc(-z);
        if (z < 2.5)
        {
            double sum = 0, term = z;
            for (int n = 0; n < 200; n++)
            {
                sum += term / (2 * n + 1);
                term *= -z * z / (n + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        double f = z;
        for (int k = 80; k >= 1; k--) f = z + k / 2.0 / f;
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }
}
