namespace MechInterp.Saes;

/// <summary>What an architecture's training losses see: the raw input, the pass's tensors, the options and the dead mask.</summary>
/// <param name="X">What the reconstruction should match [rows, d_out]: the raw input for SAEs (SAELens's
/// <c>step_input.sae_in</c>), the target for transcoders.</param>
/// <param name="FeatureActs">Training-mode latents [rows, d_sae].</param>
/// <param name="HiddenPre">The pre-activations [rows, d_sae].</param>
/// <param name="SaeOut">Reconstruction [rows, d_out].</param>
/// <param name="Options">Coefficients.</param>
/// <param name="DeadMask">Dead latents [d_sae] bool, or null.</param>
public sealed record SaeLossInputs(Tensor X, Tensor FeatureActs, Tensor HiddenPre, Tensor SaeOut, SaeLossOptions Options, Tensor? DeadMask)
{
    /// <summary>Number of dead latents (0 without a mask).</summary>
    public long DeadCount()
    {
        if (DeadMask is null) return 0;
        using var scope = Tensor.Scope();
        return DeadMask.To(DType.Int64).Sum().Item<long>();
    }
}
