namespace MechInterp.Models.Components;

/// <summary>x [..., in] @ W [in, out] + b, as one GEMM over the flattened leading dims.</summary>
internal static class Linear
{
    public static Tensor Apply(Tensor x, Tensor w, Tensor? b)
    {
        var lead = x.Shape[..^1];
        var y = x.Reshape(-1, x.Shape[^1]).MatMul(w);
        if (b is not null)
        {
            // Inference: the product is ours alone, so the bias goes into it instead of into a second output.
            y = !ForwardPlan.Records(y, b) && y.IsContiguous && b.Rank == 1 && b.DType == y.DType && b.Device == y.Device ? y.AddBiasInPlace(b) : y + b;
        }
        return y.Reshape([.. lead, w.Shape[1]]);
    }
}
