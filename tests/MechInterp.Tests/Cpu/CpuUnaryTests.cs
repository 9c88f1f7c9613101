using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>Element-wise unary ops against System.Math references in float64.</summary>
public sealed class CpuUnaryTests
{
    public static TheoryData<string> Ops() => new() { "neg", "abs", "exp", "log", "sqrt", "rsqrt", "tanh", "sigmoid", "relu", "silu", "gelu_tanh", "sign", "sin", "cos", "square", "reciprocal" };

    private static Func<double, double> Reference(string op) => op switch
    {
        "neg" => x => -x,
        "abs" => Math.Abs,
        "exp" => Math.Exp,
        "log" => x => Math.Log(Math.Abs(x)),
        "sqrt" => x => Math.Sqrt(Math.Abs(x)),
        "rsqrt" => x => 1 / Math.Sqrt(Math.Abs(x)),
        "tanh" => Math.Tanh,
        "sigmoid" => x => 1 / (1 + Math.Exp(-x)),
        "relu" => x => Math.Max(x, 0),
        "silu" => x => x / (1 + Math.Exp(-x)),
        "gelu_tanh" => x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))),
        "sign" => x => Math.Sign(x),
        "sin" => Math.Sin,
        "cos" => Math.Cos,
        "square" => x => x * x,
        _ => x => 1 / x,
    };

    private static Tensor Apply(string op, Tensor x) => op switch
    {
        "neg" => -x,
        "abs" => x.Abs(),
        "exp" => x.Exp(),
        "log" => x.Abs().Log(),
        "sqrt" => x.Abs().Sqrt(),
        "rsqrt" => x.Abs().Rsqrt(),
        "tanh" => x.Tanh(),
        "sigmoid" => x.Sigmoid(),
        "relu" => x.Relu(),
        "silu" => x.Silu(),
        "gelu_tanh" => x.GeluTanh(),
        "sign" => x.Sign(),
        "sin" => x.Sin(),
        "cos" => x.Cos(),
        "square" => x.Square(),
        _ => x.Reciprocal(),
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void Float32AndFloat64MatchReferenceIncludingStridedAndLarge(string op)
    {
        var f = Reference(op);
        foreach (long n in new long[] { 37, 70_001 })
        {
            var (x32, d32) = F32([n], 10, 6);
            Close(d32.Select(f).ToArray(), Values(Apply(op, x32)), 2e-6, 1e-6, $"{op} f32 n={n}");
            var (x64, d64) = F64([n], 11, 6);
            Close(d64.Select(f).ToArray(), Values(Apply(op, x64)), 1e-13, 1e-14, $"{op} f64 n={n}");
        }
        var (m, dm) = F32([40, 30], 12, 4);
        Close(Transpose(dm, 40, 30).Select(f).ToArray(), Values(Apply(op, m.T)), 2e-6, 1e-6, $"{op} transposed");
    }

    // 0.5 x erfc(-x/√2) from Python's math.erfc (an independent implementation).
    private static readonly double[] GeluX = [-8, -5, -3.5, -2, -1, -0.5, -1e-3, 0, 1e-3, 0.5, 1, 2, 3.5, 5, 8];
    private static readonly double[] GeluY =
    [
        -4.9767684594174555e-15, -1.4332578593959731e-06, -0.0008142017766243376, -0.04550026389635844, -0.15865525393145707,
        -0.15426876936299344, -0.000499601057786089, 0.0, 0.000500398942213911, 0.34573123063700656, 0.8413447460685429,
        1.9544997361036416, 3.4991857982233756, 4.999998566742141, 7.999999999999995,
    ];

    [Fact]
    public void ExactGeluIsAccurateToFloat32AndFloat64()
    {
        Close(GeluY, Values(Tensor.FromArray(GeluX.Select(v => (float)v).ToArray()).Gelu()), 3e-7, 1e-30, "gelu f32");
        Close(GeluY, Values(Tensor.FromArray(GeluX).Gelu()), 1e-12, 1e-300, "gelu f64");
        // large, multithreaded, negative tail: relative accuracy everywhere
        var (x, d) = F32([300_001], 13, 9);
        var got = Values(x.Gelu());
        for (int i = 0; i < d.Length; i += 601)
            Close([0.5 * d[i] * Erfc(-d[i] / Math.Sqrt(2))], [got[i]], 4e-7, 1e-37, $"gelu f32 large [{i}]");
    }

    /// <summary>Independent erfc for the test: Simpson integration of the Gaussian tail, 2/√π ∫_z^∞ e^{-t²} dt.</summary>
    private static double Erfc(double z)
    {
        if (z < 0) return 2 - Erfc(-z);
        double upper = z + 12, h = (upper - z) / 20000, sum = 0;
        for (int i = 0; i <= 20000; i++)
        {
            double t = z + i * h, w = i == 0 || i == 20000 ? 1 : i % 2 == 1 ? 4 : 2;
            sum += w * Math.Exp(-t * t);
        }
        return 2 / Math.Sqrt(Math.PI) * sum * h / 3;
    }

    [Fact]
    public void IntegerUnaryAndLogicalNot()
    {
        Assert.Equal([3L, 0, 5], Tensor.FromArray([-3L, 0, 5]).Abs().ToArray<long>());
        Assert.Equal([-1, 0, 1], Tensor.FromArray([-3, 0, 5]).Sign().ToArray<int>());
        Assert.Equal([false, true], (!Tensor.FromArray([true, false])).ToArray<bool>());
        Assert.Equal([0L, 0, 5], Tensor.FromArray([-3L, 0, 5]).Relu().ToArray<long>());
    }

    [Fact]
    public void ClampWithOneOrBothBounds()
    {
        var x = Tensor.FromArray([-2f, -0.5f, 0.5f, 2f]);
        Assert.Equal([-1f, -0.5f, 0.5f, 1f], x.Clamp(-1, 1).ToArray<float>());
        Assert.Equal([0f, 0f, 0.5f, 2f], x.Clamp(min: 0).ToArray<float>());
        Assert.Equal([-2f, -0.5f, 0f, 0f], x.T.Clamp(max: 0).ToArray<float>());
        Assert.Equal([1L, 3], Tensor.FromArray([0L, 5]).Clamp(1, 3).ToArray<long>());
    }
}
