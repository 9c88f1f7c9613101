using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of softmax, log-softmax, layer norm, RMS norm and cross-entropy.</summary>
public class NeuralNetGradTests
{
    private static Tensor Targets6 => Tensor.FromArray(new long[] { 2, 0, 4, 4, 1, 3 }, 6);
    private static Tensor Targets2x3 => Tensor.FromArray(new long[] { 1, 0, 3, 2, 2, 0 }, 2, 3);

    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["softmax dim -1"] = new(x => x[0].Softmax(-1), Arg.Of(3, 5)),
        ["softmax dim 0"] = new(x => x[0].Softmax(0), Arg.Of(3, 5)),
        ["softmax dim 1 of 3-D"] = new(x => x[0].Softmax(1), Arg.Of(2, 3, 4)),
        ["softmax on transposed input"] = new(x => x[0].T.Softmax(-1), Arg.Of(4, 3)),
        ["log_softmax dim -1"] = new(x => x[0].LogSoftmax(-1), Arg.Of(3, 5)),
        ["log_softmax dim 0"] = new(x => x[0].LogSoftmax(0), Arg.Of(3, 5)),
        ["layer_norm no affine"] = new(x => x[0].LayerNorm(), Arg.Of(3, 5)),
        ["layer_norm weight and bias"] = new(x => x[0].LayerNorm(x[1], x[2]), Arg.Of(2, 3, 5), Arg.Of(5), Arg.Of(5)),
        ["layer_norm weight only"] = new(x => x[0].LayerNorm(x[1]), Arg.Of(3, 5), Arg.Of(5)),
        ["layer_norm bias only"] = new(x => x[0].LayerNorm(bias: x[1]), Arg.Of(3, 5), Arg.Of(5)),
        ["layer_norm large eps"] = new(x => x[0].LayerNorm(x[1], x[2], eps: 0.5), Arg.Of(3, 4), Arg.Of(4), Arg.Of(4)),
        ["layer_norm on transposed input"] = new(x => x[0].T.LayerNorm(x[1], x[2]), Arg.Of(4, 3), Arg.Of(4), Arg.Of(4)),
        ["rms_norm no weight"] = new(x => x[0].RmsNorm(), Arg.Of(3, 5)),
        ["rms_norm weight"] = new(x => x[0].RmsNorm(x[1]), Arg.Of(2, 3, 5), Arg.Of(5)),
        ["rms_norm large eps"] = new(x => x[0].RmsNorm(x[1], eps: 0.5), Arg.Of(3, 4), Arg.Of(4)),
        ["cross_entropy mean"] = new(x => Tensor.CrossEntropy(x[0], Targets6), Arg.Of(6, 5)),
        ["cross_entropy sum"] = new(x => Tensor.CrossEntropy(x[0], Targets6, "sum"), Arg.Of(6, 5)),
        ["cross_entropy none, [2,3,4] logits"] = new(x => Tensor.CrossEntropy(x[0], Targets2x3, "none"), Arg.Of(2, 3, 4)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
