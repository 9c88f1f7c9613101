namespace MechInterp.Models.Components;

/// <summary>x [..., in] @ W [in, out] + b, as one GEMM over the flattened leading dims.</summary>
internal static class Linear
{
    public static Tensor Apply(Tensor x, Tensor w, Tensor? b)
    {
        var lead = x.Shape[..^1];
        var y = x.Reshape(-1, x.Shape[^1]).MatMul(w);
        if (b is not null) y = y + b;
        return y.Reshape([.. lead, w.Shape[1]]);
    }
}
