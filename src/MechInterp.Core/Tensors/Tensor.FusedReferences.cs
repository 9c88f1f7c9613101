using MechInterp.Backends;

namespace MechInterp;

public sealed partial class Tensor
{
    // The reference versions of the optional fused kernels (IFusedAttentionKernels, IFusedNormKernels,
    // IInPlaceKernels), written once from primitives for every backend that does not implement them. They compute
    // values only: the public wrappers record the same gradient whichever version ran.

    private IFusedAttentionKernels? AttentionKernels => Backend as IFusedAttentionKernels;
    private IFusedNormKernels? NormKernels => Backend as IFusedNormKernels;
    private IInPlaceKernels? InPlaceKernels => Backend as IInPlaceKernels;

    /// <summary>[q, kv] Bool: key j is visible to query i when j ≤ i + <paramref name="offset"/>.</summary>
    private static Tensor CausalVisibility(long q, long kv, long offset, Device device) =>
        Arange(0, kv, device: device).Unsqueeze(0) <= Arange(offset, q + offset, device: device).Unsqueeze(1);

    /// <summary>Reference CausalMask: <c>x · scale</c> where visible, <paramref name="fill"/> elsewhere.</summary>
    internal Tensor CausalMaskReference(double scale, long offset, double fill)
    {
        using var _ = GradMode.NoGrad();
        var visible = CausalVisibility(Shape[^2], Shape[^1], offset, Device);
        return Where(visible, this * scale, Full([], fill, DType, Device));
    }

    /// <summary>Reference CausalSoftmax: softmax of the masked, scaled scores; rows with no visible key are 0.</summary>
    internal Tensor CausalSoftmaxReference(double scale, long offset)
    {
        using var _ = GradMode.NoGrad();
        var pattern = CausalMaskReference(scale, offset, double.NegativeInfinity).Softmax(-1);
        return Where(pattern.IsNan(), Zeros([], DType, Device), pattern);
    }

    /// <summary>Reference one-pass norm with its scale (see <see cref="IFusedNormKernels.NormalizeWithScale"/>).</summary>
    internal (Tensor Normalized, Tensor Scale) NormalizeWithScaleReference(Tensor? weight, Tensor? bias, double eps, bool rms)
    {
        using var _ = GradMode.NoGrad();
        var centered = rms ? this : this - Mean(-1, keepDim: true);
        var scale = (centered.Square().Mean(-1, keepDim: true) + eps).Sqrt();
        var normalized = centered / scale;
        if (weight is not null) normalized = normalized * weight;
        if (bias is not null) normalized = normalized + bias;
        return (normalized, scale);
    }

    private Tensor CausalMatMulCore(Tensor other, long rowsPerGroup, long offset, bool inputMasked) =>
        AttentionKernels is { } k ? new Tensor(k.CausalMatMul(Handle, other.Handle, rowsPerGroup, offset, inputMasked)) : MatMulNoGrad(other);

    private Tensor MatMulNoGrad(Tensor other)
    {
        using var _ = GradMode.NoGrad();
        return MatMul(other);
    }

    private Tensor CausalSoftmaxCore(double scale, long offset) =>
        AttentionKernels is { } k ? new Tensor(k.CausalSoftmax(Handle, scale, offset)) : CausalSoftmaxReference(scale, offset);

    private Tensor CausalMaskCore(double scale, long offset, double fill) =>
        AttentionKernels is { } k ? new Tensor(k.CausalMask(Handle, scale, offset, fill)) : CausalMaskReference(scale, offset, fill);

    private void CausalMaskInPlaceCore(double scale, long offset)
    {
        if (AttentionKernels is { } k) { k.CausalMaskInPlace(Handle, scale, offset, double.NegativeInfinity); return; }
        using var masked = CausalMaskReference(scale, offset, double.NegativeInfinity);
        Backend.CopyInPlace(Handle, masked.Handle);
    }

    private Tensor CausalMaskSoftmaxInPlaceCore(double scale, long offset)
    {
        if (AttentionKernels is { } k) return new Tensor(k.CausalMaskSoftmaxInPlace(Handle, scale, offset));
        CausalMaskInPlaceCore(scale, offset);
        return CausalSoftmaxReference(1.0, offset);
    }

    private (Tensor Normalized, Tensor Scale) NormalizeWithScaleCore(Tensor? weight, Tensor? bias, double eps, bool rms)
    {
        if (NormKernels is not { } k) return NormalizeWithScaleReference(weight, bias, eps, rms);
        var (n, s) = k.NormalizeWithScale(Handle, weight?.Handle, bias?.Handle, eps, rms);
        return (new Tensor(n), new Tensor(s));
    }

    private Tensor LayerNormCore(Tensor? weight, Tensor? bias, double eps) =>
        NormKernels is { } k ? new Tensor(k.LayerNorm(Handle, weight?.Handle, bias?.Handle, eps)) : NormalizeWithScaleReference(weight, bias, eps, rms: false).Normalized;

    private Tensor RmsNormCore(Tensor? weight, double eps)
    {
        if (NormKernels is { } k) return new Tensor(k.RmsNorm(Handle, weight?.Handle, eps));
        var n = NormalizeWithScaleReference(null, null, eps, rms: true).Normalized;
        if (weight is null) return n;
        using var _ = GradMode.NoGrad();
        return n * weight;
    }

    private void AddBiasInPlaceCore(Tensor bias)
    {
        if (InPlaceKernels is { } k) { k.AddBiasInPlace(Handle, bias.Handle); return; }
        using var _ = GradMode.NoGrad();
        using var sum = this + bias;
        Backend.CopyInPlace(Handle, sum.Handle);
    }
}
