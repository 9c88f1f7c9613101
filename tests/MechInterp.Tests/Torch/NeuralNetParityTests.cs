using Xunit;
using static MechInterp.Tests.Torch.ParityHarness;

namespace MechInterp.Tests.Torch;

/// <summary>Managed CPU vs libtorch CPU: linear algebra, neural-network primitives and indexing in float32.</summary>
public class NeuralNetParityTests
{
    private static readonly Dictionary<string, Func<Device, Tensor[]>> s_cases = new()
    {
        // ---- matmul ----
        ["matmul 2-D"] = d => [Randn(d, 100, 7, 13).MatMul(Randn(d, 101, 13, 5))],
        ["matmul transposed operands"] = d => [Randn(d, 102, 13, 7).T.MatMul(Randn(d, 103, 5, 13).T)],
        ["matmul batched"] = d => [Randn(d, 104, 3, 6, 9).MatMul(Randn(d, 105, 3, 9, 4))],
        ["matmul broadcast batch"] = d => [Randn(d, 106, 2, 1, 6, 9).MatMul(Randn(d, 107, 3, 9, 4))],
        ["matmul vector"] = d => [Randn(d, 108, 9).MatMul(Randn(d, 109, 9, 4)), Randn(d, 110, 4, 9).MatMul(Randn(d, 111, 9)), Randn(d, 112, 9).MatMul(Randn(d, 113, 9))],
        ["matmul larger (blocked kernels)"] = d => [Randn(d, 114, 67, 130).MatMul(Randn(d, 115, 130, 45))],
        ["einsum projections"] = d => [Tensor.Einsum("bpd,dv->bpv", Randn(d, 116, 2, 5, 8), Randn(d, 117, 8, 6))],
        ["einsum attention scores"] = d => [Tensor.Einsum("bqhd,bkhd->bhqk", Randn(d, 118, 2, 5, 3, 4), Randn(d, 119, 2, 6, 3, 4))],
        ["einsum trace and ellipsis"] = d => [Tensor.Einsum("ii->", Randn(d, 120, 5, 5)), Tensor.Einsum("...d,d->...", Randn(d, 121, 2, 3, 4), Randn(d, 122, 4))],
        // ---- softmax and norms ----
        ["softmax"] = d => [Randn(d, 130, 4, 11).Softmax(-1), Randn(d, 130, 4, 11).Softmax(0)],
        ["softmax large logits (stability)"] = d => [(Randn(d, 131, 3, 9) * 1000.0).Softmax(-1), (Randn(d, 131, 3, 9) * 1000.0).LogSoftmax(-1)],
        ["log_softmax"] = d => [Randn(d, 132, 4, 11).LogSoftmax(-1), Randn(d, 132, 4, 11).T.LogSoftmax(1)],
        ["layer_norm"] = d => [Randn(d, 133, 3, 4, 16).LayerNorm(Randn(d, 134, 16), Randn(d, 135, 16)), (Randn(d, 136, 5, 16) * 10.0 + 3.0).LayerNorm(eps: 1e-5)],
        ["rms_norm"] = d => [Randn(d, 137, 3, 4, 16).RmsNorm(Randn(d, 138, 16), 1e-6), Randn(d, 139, 5, 16).RmsNorm(eps: 1e-5)],
        ["norms of a transposed view"] = d => [Randn(d, 140, 16, 6).T.LayerNorm(Randn(d, 141, 16)), Randn(d, 140, 16, 6).T.RmsNorm(Randn(d, 141, 16))],
        // ---- indexing ----
        ["gather"] = d => [Randn(d, 150, 4, 9).Gather(1, RandInt(d, 151, 0, 9, 4, 3)), Randn(d, 150, 4, 9).Gather(0, RandInt(d, 152, 0, 4, 2, 9))],
        ["scatter_add (duplicate indices)"] = d => [Randn(d, 153, 4, 6).ScatterAdd(1, RandInt(d, 154, 0, 6, 4, 10), Randn(d, 155, 4, 10))],
        ["index_select"] = d => [Randn(d, 156, 8, 5).IndexSelect(0, RandInt(d, 157, 0, 8, 11)), Randn(d, 156, 8, 5).IndexSelect(1, RandInt(d, 158, 0, 5, 3))],
        ["index_add (duplicate indices)"] = d => [Randn(d, 159, 6, 5).IndexAdd(0, RandInt(d, 160, 0, 6, 9), Randn(d, 161, 9, 5))],
        ["embedding lookup"] = d => [Randn(d, 162, 50, 8).IndexSelect(0, RandInt(d, 163, 0, 50, 2 * 7)).Reshape(2, 7, 8)],
        ["concat/stack/split"] = d =>
        {
            var parts = Tensor.Concat([Randn(d, 164, 2, 3), Randn(d, 165, 4, 3), Randn(d, 166, 1, 3)], 0).Split(3, 0);
            return [.. parts, Tensor.Stack([Randn(d, 167, 2, 3), Randn(d, 168, 2, 3)], 1), Tensor.Concat([Randn(d, 169, 2, 3).T, Randn(d, 170, 3, 1)], 1)];
        },
        ["topk"] = d =>
        {
            var (v, i) = Randn(d, 171, 5, 20).TopK(4, -1);
            var (vs, iS) = Randn(d, 171, 5, 20).TopK(3, 0, largest: false);
            return [v, i, vs, iS];
        },
        ["sort (stable, with ties)"] = d =>
        {
            var x = (Randn(d, 172, 4, 15) * 2.0).To(DType.Int64).To(DType.Float32);
            var (v, i) = x.Sort(-1);
            var (vd, id) = x.Sort(0, descending: true);
            return [v, i, vd, id];
        },
        ["tril/triu"] = d => [Randn(d, 173, 2, 5, 5).Tril(), Randn(d, 173, 2, 5, 5).Triu(1), Randn(d, 174, 4, 6).Tril(-1)],
        ["one_hot"] = d => [RandInt(d, 175, 0, 7, 3, 4).OneHot(7)],
        ["cross_entropy"] = d =>
        [
            Tensor.CrossEntropy(Randn(d, 176, 6, 10) * 3.0, RandInt(d, 177, 0, 10, 6)),
            Tensor.CrossEntropy(Randn(d, 178, 2, 3, 10), RandInt(d, 179, 0, 10, 2, 3), "none"),
        ],
    };

    /// <summary>The case names.</summary>
    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void ManagedAndTorchAgree(string op) => Check(op, s_cases[op]);

    [Fact]
    public void GradientsAgreeForASmallMlp()
    {
        Check("mlp gradients", d =>
        {
            var w1 = Randn(d, 190, 8, 16).RequiresGrad_();
            var w2 = Randn(d, 191, 16, 3).RequiresGrad_();
            var x = Randn(d, 192, 5, 8);
            var logits = x.MatMul(w1).Gelu().LayerNorm().MatMul(w2);
            var loss = Tensor.CrossEntropy(logits, RandInt(d, 193, 0, 3, 5));
            loss.Backward();
            return [loss, w1.Grad!, w2.Grad!];
        });
    }
}
