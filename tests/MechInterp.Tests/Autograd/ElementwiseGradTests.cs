using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of arithmetic (tensor and scalar forms, broadcasting), Pow, min/max, Where,
/// MaskedFill and Clamp.</summary>
public class ElementwiseGradTests
{
    private static Tensor Mask(params long[] shape)
    {
        var data = GradCheck.Values(new Arg(shape, 0, 1), 5).Select(v => v > 0.5).ToArray();
        return Tensor.FromArray(data, shape);
    }

    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["add"] = new(x => x[0] + x[1], Arg.Of(3, 4), Arg.Of(3, 4)),
        ["add broadcast [3,1]+[4]"] = new(x => x[0] + x[1], Arg.Of(3, 1), Arg.Of(4)),
        ["sub"] = new(x => x[0] - x[1], Arg.Of(3, 4), Arg.Of(3, 4)),
        ["sub broadcast [2,1,4]-[3,1]"] = new(x => x[0] - x[1], Arg.Of(2, 1, 4), Arg.Of(3, 1)),
        ["mul"] = new(x => x[0] * x[1], Arg.Of(3, 4), Arg.Of(3, 4)),
        ["mul broadcast [4]*[2,3,4]"] = new(x => x[0] * x[1], Arg.Of(4), Arg.Of(2, 3, 4)),
        ["mul same tensor twice"] = new(x => x[0] * x[0], Arg.Of(5)),
        ["div"] = new(x => x[0] / x[1], Arg.Of(3, 4), Arg.AwayFromZero(3, 4) with { MinAbs = 0.5 }),
        ["div broadcast [3,4]/[3,1]"] = new(x => x[0] / x[1], Arg.Of(3, 4), Arg.Positive(3, 1)),
        ["div non-contiguous (transposed) inputs"] = new(x => x[0].T / x[1], Arg.Of(4, 3), Arg.Positive(3, 4)),
        ["add scalar (tensor + s)"] = new(x => x[0] + 1.5, Arg.Of(6)),
        ["add scalar (s + tensor)"] = new(x => 1.5 + x[0], Arg.Of(6)),
        ["sub scalar (tensor - s)"] = new(x => x[0] - 0.7, Arg.Of(6)),
        ["sub scalar (s - tensor)"] = new(x => 0.7 - x[0], Arg.Of(6)),
        ["mul scalar (tensor * s)"] = new(x => x[0] * -2.5, Arg.Of(6)),
        ["mul scalar (s * tensor)"] = new(x => -2.5 * x[0], Arg.Of(6)),
        ["div scalar (tensor / s)"] = new(x => x[0] / 3.0, Arg.Of(6)),
        ["div scalar (s / tensor)"] = new(x => 3.0 / x[0], Arg.AwayFromZero(6) with { MinAbs = 0.5 }),
        ["pow scalar 3"] = new(x => x[0].Pow(3), Arg.Of(2, 3)),
        ["pow scalar 2.5"] = new(x => x[0].Pow(2.5), Arg.Positive(2, 3)),
        ["pow scalar -1.5"] = new(x => x[0].Pow(-1.5), Arg.Positive(2, 3)),
        ["pow tensor exponent"] = new(x => x[0].Pow(x[1]), Arg.Positive(2, 3), Arg.Of(2, 3)),
        ["pow tensor exponent broadcast [2,3]^[3]"] = new(x => x[0].Pow(x[1]), Arg.Positive(2, 3), Arg.Of(3)),
        ["maximum"] = new(x => Tensor.Maximum(x[0], x[1]), Arg.Of(3, 4), Arg.Of(3, 4)),
        ["maximum broadcast [3,4] vs [4]"] = new(x => Tensor.Maximum(x[0], x[1]), Arg.Of(3, 4), Arg.Of(4)),
        ["minimum"] = new(x => Tensor.Minimum(x[0], x[1]), Arg.Of(3, 4), Arg.Of(3, 4)),
        ["minimum broadcast [3,1] vs [3,4]"] = new(x => Tensor.Minimum(x[0], x[1]), Arg.Of(3, 1), Arg.Of(3, 4)),
        ["where"] = new(x => Tensor.Where(Mask(3, 4), x[0], x[1]), Arg.Of(3, 4), Arg.Of(3, 4)),
        ["where broadcast cond [3,4], a [4], b [3,1]"] = new(x => Tensor.Where(Mask(3, 4), x[0], x[1]), Arg.Of(4), Arg.Of(3, 1)),
        ["where with comparison mask from input"] = new(x => Tensor.Where(x[0].Detach() > 0, x[0].Square(), x[0] * 3.0), Arg.AwayFromZero(8)),
        ["masked_fill"] = new(x => x[0].MaskedFill(Mask(3, 4), -7.0), Arg.Of(3, 4)),
        ["masked_fill broadcast mask [4]"] = new(x => x[0].MaskedFill(Mask(4), 2.0), Arg.Of(3, 4)),
        ["clamp both"] = new(x => x[0].Clamp(-0.5, 0.8), Arg.AwayFromZero(4, 5)),
        ["clamp min only"] = new(x => x[0].Clamp(min: 0.3), Arg.Of(4, 5)),
        ["clamp max only"] = new(x => x[0].Clamp(max: -0.2), Arg.Of(4, 5)),
        ["composite (x*y + x/y) - 2x"] = new(x => x[0] * x[1] + x[0] / x[1] - 2.0 * x[0], Arg.Of(5), Arg.Positive(5)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
