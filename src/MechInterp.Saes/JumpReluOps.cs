using MechInterp.Autograd;

namespace MechInterp.Saes;

/// <summary>
/// JumpReLU's discontinuous functions with straight-through gradients to a plain (not log) threshold θ, as in
/// Rajamanoharan et al. 2024: the Heaviside step's derivative in θ is replaced by −(1/ε)·K((h − θ)/ε) with the
/// rectangle kernel K(u) = 1 for |u| &lt; ½ and bandwidth ε.
/// </summary>
internal static class JumpReluOps
{
    /// <summary>h · (h &gt; θ): ∂/∂h = (h &gt; θ); ∂/∂θ = −(θ/ε)·K((h − θ)/ε), summed over rows.</summary>
    public static Tensor JumpRelu(Tensor h, Tensor theta, double bandwidth)
    {
        Tensor result;
        using (GradMode.NoGrad()) result = h * (h > theta).To(h.DType); // [rows, d_sae]
        AutogradRecorder.Record(result, "jumprelu", [h, theta], g =>
        {
            var open = (h > theta).To(h.DType);
            var kernel = Kernel(h, theta, bandwidth);
            return [g * open, SumToThreshold(-(theta / bandwidth) * kernel * g, theta)];
        }, [h, theta]);
        return result;
    }

    /// <summary>(h &gt; θ) as 0/1: ∂/∂h = 0; ∂/∂θ = −(1/ε)·K((h − θ)/ε), summed over rows.</summary>
    public static Tensor Step(Tensor h, Tensor theta, double bandwidth)
    {
        Tensor result;
        using (GradMode.NoGrad()) result = (h > theta).To(h.DType); // [rows, d_sae]
        AutogradRecorder.Record(result, "jumprelu_step", [h, theta], g =>
            [null, SumToThreshold(Kernel(h, theta, bandwidth) * g * (-1.0 / bandwidth), theta)], [h, theta]);
        return result;
    }

    private static Tensor Kernel(Tensor h, Tensor theta, double bandwidth) =>
        (((h - theta) / bandwidth).Abs() < 0.5).To(h.DType); // [rows, d_sae]

    private static Tensor SumToThreshold(Tensor g, Tensor theta) =>
        g.Rank == theta.Rank ? g : g.Reshape(-1, theta.Shape[^1]).Sum(0); // [d_sae]
}
