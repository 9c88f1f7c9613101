using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of view ops and the indexer (ranges, steps, None, Ellipsis, tensor indices).</summary>
public class ViewGradTests
{
    private static Tensor Idx(params long[] values) => Tensor.FromArray(values, values.Length);

    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["reshape"] = new(x => x[0].Reshape(4, -1) * 1.0, Arg.Of(2, 3, 2)),
        ["reshape of transposed (copying) input"] = new(x => x[0].T.Reshape(-1), Arg.Of(3, 4)),
        ["view + flatten"] = new(x => x[0].View(6, 2).Flatten(), Arg.Of(3, 4)),
        ["flatten middle dims"] = new(x => x[0].Flatten(1, 2), Arg.Of(2, 3, 2, 2)),
        ["permute"] = new(x => x[0].Permute(2, 0, 1), Arg.Of(2, 3, 4)),
        ["transpose"] = new(x => x[0].Transpose(0, 2), Arg.Of(2, 3, 4)),
        ["T property"] = new(x => x[0].T, Arg.Of(3, 4)),
        ["expand [3,1]->[2,3,4]"] = new(x => x[0].Expand(2, 3, 4), Arg.Of(3, 1)),
        ["expand with -1"] = new(x => x[0].Expand(5, -1), Arg.Of(1, 3)),
        ["expand_as"] = new(x => x[0].ExpandAs(x[1]) * x[1], Arg.Of(4), Arg.Of(3, 4)),
        ["narrow"] = new(x => x[0].Narrow(1, 1, 3), Arg.Of(3, 5)),
        ["slice with step 2"] = new(x => x[0].Slice(0, 1, 6, 2), Arg.Of(6, 3)),
        ["slice with step 3 and negative start"] = new(x => x[0].Slice(1, -5, 7, 3), Arg.Of(2, 7)),
        ["slice of a slice (strided, non-contiguous)"] = new(x => x[0].Slice(1, 0, 6, 2).Slice(0, 1, 3), Arg.Of(4, 6)),
        ["select"] = new(x => x[0].Select(1, 2), Arg.Of(3, 4)),
        ["select negative index"] = new(x => x[0].Select(0, -1), Arg.Of(3, 4)),
        ["unsqueeze"] = new(x => x[0].Unsqueeze(1), Arg.Of(3, 4)),
        ["unsqueeze negative"] = new(x => x[0].Unsqueeze(-1), Arg.Of(3, 4)),
        ["squeeze all"] = new(x => x[0].Squeeze(), Arg.Of(3, 1, 4, 1)),
        ["squeeze one dim"] = new(x => x[0].Squeeze(1), Arg.Of(3, 1, 4, 1)),
        ["contiguous of transposed"] = new(x => x[0].T.Contiguous(), Arg.Of(3, 4)),
        ["contiguous of strided slice"] = new(x => x[0].Slice(0, 0, 4, 2).Contiguous(), Arg.Of(4, 3)),
        ["indexer integer and range"] = new(x => x[0][1, 1..^1], Arg.Of(3, 5)),
        ["indexer ^1 and None"] = new(x => x[0][^1, TensorIndex.None], Arg.Of(3, 5)),
        ["indexer Ellipsis then integer"] = new(x => x[0][TensorIndex.Ellipsis, 2], Arg.Of(2, 3, 4)),
        ["indexer range, None, Ellipsis"] = new(x => x[0][0..2, TensorIndex.None, TensorIndex.Ellipsis], Arg.Of(3, 2, 4)),
        ["indexer step slice"] = new(x => x[0][TensorIndex.Slice(1, null, 2), TensorIndex.Slice(0, -1, 2)], Arg.Of(5, 6)),
        ["indexer 1-D tensor with repeats"] = new(x => x[0][Idx(2, 0, 2, 1)], Arg.Of(3, 4)),
        ["indexer tensor on dim 1 with negative index"] = new(x => x[0][.., Idx(-1, 0, 3)], Arg.Of(3, 4)),
        ["indexer 2-D tensor index"] = new(x => x[0][Tensor.FromArray(new long[] { 0, 2, 2, 1 }, 2, 2)], Arg.Of(3, 4)),
        ["indexer on transposed input"] = new(x => x[0].T[1..3, 0], Arg.Of(3, 4)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
