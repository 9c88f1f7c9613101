using Xunit;
using static MechInterp.Tests.Torch.ParityHarness;

namespace MechInterp.Tests.Torch;

/// <summary>Managed CPU vs libtorch CPU: element-wise ops, broadcasting, views and reductions in float32.</summary>
public class ElementwiseParityTests
{
    private static readonly Dictionary<string, Func<Device, Tensor[]>> s_cases = new()
    {
        // ---- unary (every UnaryOp) ----
        ["neg"] = d => [-Randn(d, 1, 3, 5)],
        ["abs"] = d => [Randn(d, 1, 3, 5).Abs()],
        ["exp"] = d => [Randn(d, 2, 3, 5).Exp()],
        ["log"] = d => [Rand(d, 3, 0.01, 10, 4, 7).Log()],
        ["sqrt"] = d => [Rand(d, 3, 0.0, 10, 4, 7).Sqrt()],
        ["rsqrt"] = d => [Rand(d, 3, 0.01, 10, 4, 7).Rsqrt()],
        ["tanh"] = d => [(Randn(d, 4, 6, 9) * 3.0).Tanh()],
        ["sigmoid"] = d => [(Randn(d, 4, 6, 9) * 5.0).Sigmoid()],
        ["relu"] = d => [Randn(d, 5, 6, 9).Relu()],
        ["gelu (exact erf)"] = d => [(Randn(d, 6, 7, 11) * 3.0).Gelu()],
        ["gelu (tanh approximation)"] = d => [(Randn(d, 6, 7, 11) * 3.0).GeluTanh()],
        ["silu"] = d => [(Randn(d, 7, 7, 11) * 3.0).Silu()],
        ["sign"] = d => [Randn(d, 8, 5, 5).Sign()],
        ["sin"] = d => [(Randn(d, 9, 5, 5) * 4.0).Sin()],
        ["cos"] = d => [(Randn(d, 9, 5, 5) * 4.0).Cos()],
        ["square"] = d => [Randn(d, 10, 5, 5).Square()],
        ["reciprocal"] = d => [Rand(d, 11, 0.1, 5, 5, 5).Reciprocal()],
        ["logical not"] = d => [!(Randn(d, 12, 5, 5) > 0)],
        // ---- binary with broadcasting ----
        ["add broadcast"] = d => [Randn(d, 20, 3, 1, 5) + Randn(d, 21, 4, 5)],
        ["sub broadcast"] = d => [Randn(d, 20, 3, 1, 5) - Randn(d, 21, 4, 1)],
        ["mul broadcast"] = d => [Randn(d, 20, 2, 3, 5) * Randn(d, 21, 5)],
        ["div broadcast"] = d => [Randn(d, 20, 2, 3, 5) / Rand(d, 21, 0.5, 2, 3, 1)],
        ["pow tensor"] = d => [Rand(d, 22, 0.1, 3, 4, 6).Pow(Randn(d, 23, 6))],
        ["maximum"] = d => [Tensor.Maximum(Randn(d, 24, 4, 1), Randn(d, 25, 1, 6))],
        ["minimum"] = d => [Tensor.Minimum(Randn(d, 24, 4, 1), Randn(d, 25, 1, 6))],
        ["comparisons"] = d => Comparisons(d),
        ["and/or"] = d => [(Randn(d, 30, 4, 5) > 0) & (Randn(d, 31, 5) > 0), (Randn(d, 30, 4, 5) > 0) | (Randn(d, 31, 5) > 0)],
        ["integer division truncates"] = d => [RandInt(d, 32, -50, 50, 40) / (RandInt(d, 33, 1, 9, 40) * (RandInt(d, 34, 0, 2, 40) * 2 - 1))],
        ["integer add/mul"] = d => [RandInt(d, 35, -50, 50, 4, 5) + RandInt(d, 36, -5, 5, 5), RandInt(d, 35, -50, 50, 4, 5) * 3.0],
        // ---- scalar forms ----
        ["scalar ops"] = d =>
        {
            var x = Randn(d, 40, 3, 7);
            return [x * 2.5, 1.5 - x, 3.0 / (x.Abs() + 0.5), x + 0.25, x / 4.0, x.Pow(2), x.Abs().Pow(0.5), x > 0.3, x <= -0.2, x == 0];
        },
        ["clamp"] = d => [Randn(d, 41, 4, 9).Clamp(-0.5, 0.7), Randn(d, 41, 4, 9).Clamp(min: 0), Randn(d, 41, 4, 9).Clamp(max: 0.1)],
        ["where"] = d => [Tensor.Where(Randn(d, 42, 3, 1) > 0, Randn(d, 43, 3, 4), Randn(d, 44, 4))],
        ["masked_fill"] = d => [Randn(d, 45, 3, 4).MaskedFill(Randn(d, 46, 4) > 0, -1e9)],
        // ---- views and non-contiguous inputs ----
        ["transposed operand"] = d => [Randn(d, 50, 5, 3).T + Randn(d, 51, 3, 5)],
        ["permute + contiguous"] = d => [Randn(d, 52, 2, 3, 4).Permute(2, 0, 1).Contiguous()],
        ["slice with step"] = d => [Randn(d, 53, 10, 6).Slice(0, 1, 9, 3) * 2.0, Randn(d, 53, 10, 6).Slice(1, 0, 6, 2).Exp()],
        ["narrow + select"] = d => [Randn(d, 54, 6, 5).Narrow(1, 1, 3) + 1.0, Randn(d, 54, 6, 5).Select(0, 2) * 1.0],
        ["expand"] = d => [Randn(d, 55, 3, 1).Expand(3, 4) * Randn(d, 56, 3, 4)],
        ["reshape of non-contiguous"] = d => [Randn(d, 57, 4, 6).T.Reshape(3, 8)],
        ["unsqueeze/squeeze/flatten"] = d => [Randn(d, 58, 2, 1, 3).Squeeze(1).Unsqueeze(0).Flatten() * 1.0],
        // ---- reductions (keepdim, non-contiguous) ----
        ["sum"] = d => [Randn(d, 60, 3, 4, 5).Sum(1), Randn(d, 60, 3, 4, 5).Sum(2, keepDim: true), Randn(d, 60, 3, 4, 5).Sum(), Randn(d, 60, 3, 4, 5).Sum([0, 2])],
        ["mean"] = d => [Randn(d, 61, 3, 4, 5).Mean(0), Randn(d, 61, 3, 4, 5).Mean(-1, keepDim: true), Randn(d, 61, 3, 4, 5).Mean()],
        ["max/min"] = d => [Randn(d, 62, 6, 7).Max(1), Randn(d, 62, 6, 7).Min(0, keepDim: true), Randn(d, 62, 6, 7).Max()],
        ["argmax/argmin"] = d => [Randn(d, 63, 6, 7).ArgMax(1), Randn(d, 63, 6, 7).ArgMin(0, keepDim: true), Randn(d, 63, 6, 7).ArgMax()],
        ["logsumexp"] = d => [(Randn(d, 64, 5, 8) * 30.0).LogSumExp(1), (Randn(d, 64, 5, 8) * 30.0).LogSumExp(0, keepDim: true)],
        ["reductions of a transposed view"] = d => [Randn(d, 65, 5, 7).T.Sum(1), Randn(d, 65, 5, 7).T.Max(0), Randn(d, 65, 5, 7).T.Mean(1, keepDim: true)],
        ["var/std/norm"] = d => [Randn(d, 66, 4, 9).Var(1), Randn(d, 66, 4, 9).Std(0, unbiased: false), Randn(d, 66, 4, 9).Norm(), Randn(d, 66, 4, 9).Norm(1, 1)],
        ["cumsum"] = d => [Randn(d, 67, 4, 9).CumSum(1), Randn(d, 67, 4, 9).CumSum(0), Randn(d, 67, 4, 9).T.CumSum(1)],
        ["integer reductions"] = d => [RandInt(d, 68, -9, 9, 4, 5).Sum(1), RandInt(d, 68, -9, 9, 4, 5).Max(0), RandInt(d, 68, -9, 9, 4, 5).CumSum(1)],
    };

    private static Tensor[] Comparisons(Device d)
    {
        // Rounded values so that equal elements occur and Eq/Le/Ge ties are exercised.
        var a = (Randn(d, 26, 4, 6) * 2.0).Clamp(-2, 2).To(DType.Int64).To(DType.Float32);
        var b = (Randn(d, 27, 6) * 2.0).Clamp(-2, 2).To(DType.Int64).To(DType.Float32);
        return [a == b, a != b, a < b, a <= b, a > b, a >= b];
    }

    /// <summary>The case names.</summary>
    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ManagedAndTorchAgree(string op) => Check(op, s_cases[op]);
}
