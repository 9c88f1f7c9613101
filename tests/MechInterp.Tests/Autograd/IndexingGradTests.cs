using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of concat/stack/split/chunk, gather/scatter/index ops, topk/sort, casts
/// and Clone (casts are checked in <see cref="EngineTests"/>).</summary>
public class IndexingGradTests
{
    private static Tensor Idx(params long[] values) => Tensor.FromArray(values, values.Length);

    /// <summary>Weights each piece differently, so a gradient routed to the wrong piece is caught.</summary>
    private static Tensor Weighted(Tensor[] parts) =>
        Tensor.Concat(parts.Select((p, i) => (p * (i + 1.0)).Reshape(-1)).ToArray());

    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["concat dim 0"] = new(x => Tensor.Concat([x[0], x[1]]), Arg.Of(2, 3), Arg.Of(4, 3)),
        ["concat dim 1 of three, one transposed"] = new(x => Tensor.Concat([x[0], x[1].T, x[2]], 1), Arg.Of(3, 2), Arg.Of(1, 3), Arg.Of(3, 4)),
        ["concat same tensor twice"] = new(x => Tensor.Concat([x[0], x[0]], -1), Arg.Of(2, 3)),
        ["stack dim 0"] = new(x => Tensor.Stack([x[0], x[1]]), Arg.Of(2, 3), Arg.Of(2, 3)),
        ["stack dim -1"] = new(x => Tensor.Stack([x[0], x[1], x[2]], -1), Arg.Of(2, 3), Arg.Of(2, 3), Arg.Of(2, 3)),
        ["split by size (uneven)"] = new(x => Weighted(x[0].Split(2, 1)), Arg.Of(3, 5)),
        ["split by sizes"] = new(x => Weighted(x[0].Split([1, 3, 2], 0)), Arg.Of(6, 2)),
        ["chunk"] = new(x => Weighted(x[0].Chunk(3, -1)), Arg.Of(2, 7)),
        ["split, use only one piece"] = new(x => x[0].Split(2, 0)[1], Arg.Of(5, 2)),
        ["index_select dim 0 with repeats"] = new(x => x[0].IndexSelect(0, Idx(2, 0, 2)), Arg.Of(3, 4)),
        ["index_select dim 1"] = new(x => x[0].IndexSelect(1, Idx(2, 0)), Arg.Of(2, 3, 4)),
        ["index_select on transposed input"] = new(x => x[0].T.IndexSelect(0, Idx(1, 1, 0)), Arg.Of(3, 2)),
        ["gather dim 1"] = new(x => x[0].Gather(1, Tensor.FromArray(new long[] { 0, 0, 3, 1, 2, 2 }, 3, 2)), Arg.Of(3, 4)),
        ["gather dim 0"] = new(x => x[0].Gather(0, Tensor.FromArray(new long[] { 2, 0, 1, 1, 0, 2, 2, 2 }, 2, 4)), Arg.Of(3, 4)),
        ["scatter_add dim 1 (self and source)"] = new(x => x[0].ScatterAdd(1, Tensor.FromArray(new long[] { 0, 0, 3, 1, 2, 2 }, 3, 2), x[1]), Arg.Of(3, 4), Arg.Of(3, 2)),
        ["scatter_add dim 0"] = new(x => x[0].ScatterAdd(0, Tensor.FromArray(new long[] { 1, 0, 1, 1, 0, 0 }, 2, 3), x[1]), Arg.Of(2, 3), Arg.Of(2, 3)),
        ["scatter_add source larger than index"] = new(x => x[0].ScatterAdd(1, Tensor.FromArray(new long[] { 0, 3, 1, 1 }, 2, 2), x[1]), Arg.Of(3, 4), Arg.Of(3, 4)),
        ["gather index smaller than input outside dim"] = new(x => x[0].Gather(1, Tensor.FromArray(new long[] { 0, 3, 1, 1 }, 2, 2)), Arg.Of(3, 4)),
        ["index_add dim 0 with repeats"] = new(x => x[0].IndexAdd(0, Idx(1, 3, 1), x[1]), Arg.Of(4, 3), Arg.Of(3, 3)),
        ["index_add dim 1"] = new(x => x[0].IndexAdd(1, Idx(0, 2), x[1]), Arg.Of(3, 4), Arg.Of(3, 2)),
        ["topk largest"] = new(x => x[0].TopK(2, -1).Values, Arg.Of(3, 5)),
        ["topk smallest dim 0"] = new(x => x[0].TopK(2, 0, largest: false).Values, Arg.Of(4, 3)),
        ["sort ascending"] = new(x => x[0].Sort().Values, Arg.Of(3, 5)),
        ["sort descending dim 0"] = new(x => x[0].Sort(0, descending: true).Values, Arg.Of(4, 3)),
        ["clone"] = new(x => x[0].Clone() * x[0], Arg.Of(3, 4)),
        ["clone of transposed input"] = new(x => x[0].T.Clone(), Arg.Of(3, 4)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
