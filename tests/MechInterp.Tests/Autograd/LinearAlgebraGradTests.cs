using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>Finite-difference checks of MatMul (all torch.matmul shape cases) and Einsum.</summary>
public class LinearAlgebraGradTests
{
    internal static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["matmul 2-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(3, 4), Arg.Of(4, 5)),
        ["matmul batched"] = new(x => x[0].MatMul(x[1]), Arg.Of(2, 3, 4), Arg.Of(2, 4, 2)),
        ["matmul broadcast batch [2,1,3,4]@[3,4,2]"] = new(x => x[0].MatMul(x[1]), Arg.Of(2, 1, 3, 4), Arg.Of(3, 4, 2)),
        ["matmul 3-D @ 2-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(2, 3, 4), Arg.Of(4, 5)),
        ["matmul 2-D @ 3-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(3, 4), Arg.Of(2, 4, 5)),
        ["matmul 1-D @ 1-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(5), Arg.Of(5)),
        ["matmul 1-D @ 2-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(4), Arg.Of(4, 3)),
        ["matmul 2-D @ 1-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(3, 4), Arg.Of(4)),
        ["matmul 1-D @ 3-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(4), Arg.Of(2, 4, 3)),
        ["matmul 3-D @ 1-D"] = new(x => x[0].MatMul(x[1]), Arg.Of(2, 3, 4), Arg.Of(4)),
        ["matmul transposed inputs A^T @ B^T"] = new(x => x[0].T.MatMul(x[1].T), Arg.Of(4, 3), Arg.Of(5, 4)),
        ["matmul batched transposed (permuted) inputs"] = new(x => x[0].Transpose(1, 2).MatMul(x[1].Permute(2, 0, 1)), Arg.Of(2, 4, 3), Arg.Of(4, 5, 2)),
        ["matmul strided-slice input"] = new(x => x[0].Slice(0, 0, 6, 2).MatMul(x[1]), Arg.Of(6, 4), Arg.Of(4, 3)),
        ["matmul same tensor both sides (x @ x^T)"] = new(x => x[0].MatMul(x[0].T), Arg.Of(3, 4)),
        ["einsum bpd,hde->bphe"] = new(x => Tensor.Einsum("bpd,hde->bphe", x[0], x[1]), Arg.Of(2, 3, 4), Arg.Of(2, 4, 3)),
        ["einsum ii->"] = new(x => Tensor.Einsum("ii->", x[0]), Arg.Of(4, 4)),
        ["einsum ...d,d->..."] = new(x => Tensor.Einsum("...d,d->...", x[0], x[1]), Arg.Of(2, 3, 4), Arg.Of(4)),
        ["einsum ...A,A->... (upper-case label with ellipsis)"] = new(x => Tensor.Einsum("...A,A->...", x[0], x[1]), Arg.Of(2, 3, 4), Arg.Of(4)),
        ["einsum Ab...,b... (implicit output with ellipsis)"] = new(x => Tensor.Einsum("Ab...,b...", x[0], x[1]), Arg.Of(2, 3, 4), Arg.Of(3, 4)),
        ["einsum ij,jk->ik"] = new(x => Tensor.Einsum("ij,jk->ik", x[0], x[1]), Arg.Of(3, 4), Arg.Of(4, 2)),
        ["einsum bhqd,bhkd->bhqk"] = new(x => Tensor.Einsum("bhqd,bhkd->bhqk", x[0], x[1]), Arg.Of(2, 2, 3, 4), Arg.Of(2, 2, 3, 4)),
        ["einsum bij->bji (permute only)"] = new(x => Tensor.Einsum("bij->bji", x[0]), Arg.Of(2, 3, 4)),
        ["einsum ij->j (sum)"] = new(x => Tensor.Einsum("ij->j", x[0]), Arg.Of(3, 4)),
        ["einsum i,j->ij (outer)"] = new(x => Tensor.Einsum("i,j->ij", x[0], x[1]), Arg.Of(3), Arg.Of(4)),
        ["einsum bi,bi->b (batched dot)"] = new(x => Tensor.Einsum("bi,bi->b", x[0], x[1]), Arg.Of(3, 4), Arg.Of(3, 4)),
        ["einsum ij,kj (implicit output)"] = new(x => Tensor.Einsum("ij,kj", x[0], x[1]), Arg.Of(3, 4), Arg.Of(2, 4)),
        ["einsum ijk,jl->il (unique k summed)"] = new(x => Tensor.Einsum("ijk,jl->il", x[0], x[1]), Arg.Of(2, 3, 2), Arg.Of(3, 4)),
        ["einsum bii->bi (batched diagonal)"] = new(x => Tensor.Einsum("bii->bi", x[0]), Arg.Of(2, 3, 3)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferences(string name) => GradCheck.Run(name, Cases[name]);
}
