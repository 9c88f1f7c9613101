namespace MechInterp.Patching;

/// <summary>
/// One patched forward pass of a sweep: at hook point <see cref="Hook"/>, the activation takes <see cref="Value"/>
/// wherever <see cref="Mask"/> is true and keeps the base run's value elsewhere (<c>where(mask, value, x)</c>).
/// </summary>
/// <remarks>
/// Both tensors have the activation's rank; every dimension is the activation's size or 1 (broadcast). A mask
/// [1, pos, 1] at <c>hook_resid_pre</c> with one true entry is "this position, every prompt, every channel"; a mask
/// [1, 1, n_heads, 1] at <c>hook_z</c> is "this head at every position". Any index (positions, heads, neurons, an
/// arbitrary boolean pattern) is a mask. The value is a source cache's activation (patching), zeros or a mean
/// (ablation), or another prompt's activation (resample ablation); its batch dimension is the base run's or 1.
/// </remarks>
/// <param name="Hook">Full hook name, e.g. <c>blocks.3.hook_resid_pre</c>.</param>
/// <param name="Mask">Bool tensor: where to write <paramref name="Value"/>.</param>
/// <param name="Value">The activation written where the mask is true.</param>
public sealed record PatchCell(string Hook, Tensor Mask, Tensor Value);
