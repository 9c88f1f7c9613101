using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>The causal-attention product (<c>IFusedAttentionKernels.CausalMatMul</c>, or the full product where a backend lacks it) of this [..., m, k] and
    /// <paramref name="other"/> [..., k, n] with equal batch dims: without <paramref name="inputMasked"/> only the
    /// visible entries (column j ≤ (row mod <paramref name="rowsPerGroup"/>) + <paramref name="offset"/>) are defined;
    /// with it, this tensor's hidden entries must be zero. Inference only: records no gradient.</summary>
    internal Tensor CausalMatMul(Tensor other, long rowsPerGroup, long offset, bool inputMasked)
    {
        if (GradMode.IsEnabled && (RequiresGrad || other.RequiresGrad))
            throw new InvalidOperationException("CausalMatMul records no gradient: use MatMul when one is needed");
        if (Rank < 2 || other.Rank != Rank || DType != other.DType || Device != other.Device
            || !Shape.AsSpan(0, Rank - 2).SequenceEqual(other.Shape.AsSpan(0, Rank - 2)) || Shape[^1] != other.Shape[^2])
            throw new ArgumentException($"CausalMatMul: {ShapeString(Shape)} {DType} on {Device} @ {ShapeString(other.Shape)} {other.DType} on {other.Device} needs one dtype, one device and equal batch dims");
        return CausalMatMulCore(other, rowsPerGroup, offset, inputMasked);
    }

    /// <summary>Matrix product with torch.matmul semantics: 1-D operands are promoted, batch dims broadcast.</summary>
    public Tensor MatMul(Tensor other)
    {
        var (a, b) = Promote(this, other, "MatMul");
        if (a.Rank == 0 || b.Rank == 0) throw new ArgumentException("MatMul needs tensors with at least one dim; use * for scalars");
        if (a.Rank == 1 && b.Rank == 1) return (a * b).Sum();
        if (a.Rank == 1) return a.Unsqueeze(0).MatMul(b).Squeeze(-2);
        if (b.Rank == 1) return a.MatMul(b.Unsqueeze(-1)).Squeeze(-1);
        long k = a.Shape[^1];
        if (b.Shape[^2] != k)
            throw new ArgumentException($"MatMul: inner dimensions differ: {ShapeString(a.Shape)} @ {ShapeString(b.Shape)} ({k} vs {b.Shape[^2]})");
        var batch = ShapeUtil.Broadcast(a.Shape[..^2], b.Shape[..^2]);
        var ae = a.Expand([.. batch, a.Shape[^2], k]);
        var be = b.Expand([.. batch, k, b.Shape[^1]]);
        var r = new Tensor(a.Backend.MatMul(ae.Handle, be.Handle));
        AutogradRecorder.Record(r, "matmul", [ae, be], g => [g.MatMul(be.T), ae.T.MatMul(g)], [ae, be]);
        return r;
    }

    /// <summary>Matrix product (same as <c>a.MatMul(b)</c>).</summary>
    public static Tensor MatMul(Tensor a, Tensor b) => a.MatMul(b);
}
