namespace MechInterp.Saes;

/// <summary>
/// One training forward pass: the total <see cref="Loss"/> (the sum of <see cref="Losses"/>, a scalar that
/// <c>Backward()</c> can start from), each named component (SAELens's names: <c>mse_loss</c>, <c>l1_loss</c>,
/// <c>l0_loss</c>, <c>pre_act_loss</c>, <c>auxiliary_reconstruction_loss</c>, <c>inner_mse_loss_W</c>), and the
/// tensors of the pass.
/// </summary>
/// <param name="Loss">Sum of the components [].</param>
/// <param name="Losses">Each component [] by name, in the order they were added.</param>
/// <param name="SaeOut">The reconstruction [rows, d_out] (un-normalised).</param>
/// <param name="FeatureActs">The training-mode latents [rows, d_sae].</param>
/// <param name="HiddenPre">The pre-activations the losses used [rows, d_sae].</param>
public sealed record TrainStepOutput(Tensor Loss, IReadOnlyList<KeyValuePair<string, Tensor>> Losses, Tensor SaeOut, Tensor FeatureActs, Tensor HiddenPre)
{
    /// <summary>The component called <paramref name="name"/>.</summary>
    public Tensor this[string name] => Losses.First(kv => kv.Key == name).Value;
}
