namespace MechInterp;

/// <summary>
/// A module spliced into a model at one of its hook points at run time (a sparse autoencoder, a transcoder, a steering
/// vector): while attached, the activation passing that point goes through <see cref="Forward"/>, and the module's own
/// named hook points appear in the model's hook dictionary (so RunWithCache, RunWithHooks and GetHookPoint see them).
/// Attach with <see cref="HookRegistry.Attach"/>; SAELens names such points under the attachment point, e.g.
/// <c>blocks.1.hook_resid_post.hook_sae_acts_post</c>.
/// </summary>
public interface IHookModule
{
    /// <summary>The module's own hook points, with full names that start with the attachment point's name and a dot.</summary>
    IReadOnlyList<HookPoint> HookPoints { get; }

    /// <summary>Transforms the activation at the attachment point (same shape in and out). Runs after the point's own
    /// hooks have seen the activation; what it returns is what the rest of the model sees.</summary>
    Tensor Forward(Tensor activation);
}
