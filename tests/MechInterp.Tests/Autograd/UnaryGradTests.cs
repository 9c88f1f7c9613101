using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of the unary math and activation functions.</summary>
public class UnaryGradTests
{
    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["neg"] = new(x => -x[0], Arg.Of(3, 4)),
        ["abs"] = new(x => x[0].Abs(), Arg.AwayFromZero(3, 4)),
        ["exp"] = new(x => x[0].Exp(), Arg.Of(3, 4)),
        ["log"] = new(x => x[0].Log(), Arg.Positive(3, 4)),
        ["sqrt"] = new(x => x[0].Sqrt(), Arg.Positive(3, 4)),
        ["rsqrt"] = new(x => x[0].Rsqrt(), Arg.Positive(3, 4)),
        ["square"] = new(x => x[0].Square(), Arg.Of(3, 4)),
        ["reciprocal"] = new(x => x[0].Reciprocal(), Arg.Positive(3, 4)),
        ["sin"] = new(x => x[0].Sin(), Arg.Of(3, 4)),
        ["cos"] = new(x => x[0].Cos(), Arg.Of(3, 4)),
        ["tanh"] = new(x => x[0].Tanh(), Arg.Of(3, 4)),
        ["sigmoid"] = new(x => x[0].Sigmoid(), Arg.Of(3, 4)),
        ["relu"] = new(x => x[0].Relu(), Arg.AwayFromZero(3, 4)),
        ["gelu"] = new(x => x[0].Gelu(), new Arg([3, 4], -4, 4)),
        ["gelu_tanh"] = new(x => x[0].GeluTanh(), new Arg([3, 4], -4, 4)),
        ["silu"] = new(x => x[0].Silu(), new Arg([3, 4], -4, 4)),
        ["exp on transposed input"] = new(x => x[0].T.Exp(), Arg.Of(3, 4)),
        ["tanh on strided slice"] = new(x => x[0].Slice(1, 0, 6, 2).Tanh(), Arg.Of(3, 6)),
        ["chain log(sigmoid(x)) * cos(x)"] = new(x => x[0].Sigmoid().Log() * x[0].Cos(), Arg.Of(7)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
