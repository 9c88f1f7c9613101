namespace MechInterp.Patching;

/// <summary>
/// Activation patching: which activations carry the information that makes the model behave one way rather than another.
/// </summary>
/// <remarks>
/// <para><b>The technique.</b> Take two prompts that differ in one detail: a <i>clean</i> one where the model does the thing
/// (says " Mary" after "When Mary and John went to the store, John gave a drink to") and a <i>corrupted</i> one where it
/// does not ("... Mary and John ... Mary gave a drink to"). Pick a metric of the logits that tells the two apart, usually
/// the logit difference between the right and the wrong answer (<see cref="PatchingMetrics.LogitDifference"/>). Run one
/// prompt (the <i>base</i> run) and, at one site (a hook point and an index: a layer's residual stream at one position,
/// one head's output at every position, ...), write the other prompt's activation (from the <i>source</i> cache). Everything
/// downstream is recomputed; the metric says how much that one site carries. A sweep does this for every site of a kind
/// and returns a heatmap: [n_layers, pos] for residual streams, [n_layers, n_heads] for heads.</para>
/// <para><b>Denoising and noising.</b> Base = corrupted, source = clean ("denoising", TransformerLens's default): a site
/// that restores the clean metric is <i>sufficient</i> to carry the behaviour. Base = clean, source = corrupted ("noising"):
/// a site that destroys it is <i>necessary</i>. The two answer different questions (Heimersheim &amp; Nanda 2024, "How to
/// use and interpret activation patching"); in circuits with redundant parts (backup heads, OR-gates) they disagree, so run
/// both before concluding. Normalise with <see cref="PatchingMetrics.Normalize(Tensor, double, double)"/>: 0 = the base
/// run, 1 = the source run.</para>
/// <para><b>Reading the results.</b> Patching the residual stream at layer 0 at every position reproduces the source run
/// exactly, and at positions before the first differing token does nothing (nothing has differed yet): these are cheap
/// sanity checks. A residual-stream sweep shows where along the sequence the information lives at each layer and when it
/// moves (an attention head moved it); head sweeps show which heads moved it; by-position head sweeps show where each
/// head reads from. Patching is causal but local: a site that matters may matter only because later components read it;
/// <see cref="Attribution.AttributionPatching"/> estimates the same heatmaps from one forward and one backward pass, to first order.</para>
/// <para><b>Here.</b> Every sweep is one generic core (<see cref="Run(IHookedModel, Tensor, IReadOnlyList{PatchCell}, Func{Tensor, Tensor}, PatchingOptions?)"/>:
/// any hook point, any boolean mask as the index) and named sweeps that only say which activation and which axes
/// (<see cref="Generic"/>). Results are float32 tensors on the CPU holding the raw metric of each patched run (not a
/// difference). The sweep registers one hook per patched pass, starts each pass at the patched layer from the base run's
/// residual stream, and runs many cells as one batch (<see cref="PatchingOptions"/>), with the numbers of a plain loop.</para>
/// </remarks>
public static partial class ActivationPatching
{
    /// <summary>
    /// The generic core: runs <paramref name="baseTokens"/> once per cell with that cell's patch and returns the metric of
    /// each, [cells] float32. Cells may sit at any hook points and hold any masks and values.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run that is patched.</param>
    /// <param name="cells">The patches, one per forward pass.</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="options">Batching, start layer and progress.</param>
    /// <exception cref="UnknownHookException">A cell names a hook the model does not have.</exception>
    /// <exception cref="ArgumentException">A mask is not Bool, a mask or value does not broadcast to its activation, or
    /// the metric does not return one number.</exception>
    public static Tensor Run(IHookedModel model, Tensor baseTokens, IReadOnlyList<PatchCell> cells, Func<Tensor, Tensor> metric,
        PatchingOptions? options = null)
    {
        var values = PatchSweep.Run(model, baseTokens, cells, metric, options);
        return Tensor.FromArray(values, values.Length);
    }

    /// <summary>
    /// One patched run: <paramref name="baseTokens"/> with <paramref name="sourceCache"/>'s activation written at
    /// <paramref name="hook"/> where <paramref name="mask"/> is true (the whole activation when the mask is null); returns the metric.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run that is patched.</param>
    /// <param name="sourceCache">Activations of the source run (same shape of tokens).</param>
    /// <param name="hook">Full or short hook name.</param>
    /// <param name="mask">Bool mask broadcastable to the activation; null patches all of it.</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    public static float Patch(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, string hook, Tensor? mask,
        Func<Tensor, Tensor> metric)
    {
        ArgumentNullException.ThrowIfNull(sourceCache);
        var value = sourceCache[hook];
        string name = model.GetHookPoint(ActName.Get(hook)).Name;
        mask ??= Tensor.Full(Enumerable.Repeat(1L, value.Rank).ToArray(), 1, DType.Bool, model.Device);
        return PatchSweep.Run(model, baseTokens, [new PatchCell(name, mask, value)], metric, null)[0];
    }

    /// <summary>
    /// A named sweep's core (TransformerLens's generic_activation_patch): for every layer, patch activation
    /// <paramref name="activation"/> (a short name: "resid_pre", "attn_out", "z", "q", "pattern", "post", ...) of the
    /// source cache into the base run at each index along <paramref name="axes"/>, all other dims (prompts, channels)
    /// included. Returns [n_layers, size of each axis...] raw metric values.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run that is patched.</param>
    /// <param name="sourceCache">Activations of the source run; must hold <paramref name="activation"/> at every layer.</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="activation">Short activation name (see <see cref="ActName.Get"/>).</param>
    /// <param name="axes">The axes iterated, in result order (e.g. [Pos, Head] → [n_layers, pos, n_heads]).</param>
    /// <param name="options">Batching, start layer and progress.</param>
    public static Tensor Generic(IHookedModel model, Tensor baseTokens, ActivationCache sourceCache, Func<Tensor, Tensor> metric,
        string activation, IReadOnlyList<PatchAxis> axes, PatchingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sourceCache);
        using var scope = Tensor.Scope(); // the cells' masks
        var (cells, shape) = PatchGrid.Build(model, activation, axes, h => sourceCache[h].Shape, h => sourceCache[h]);
        var values = PatchSweep.Run(model, baseTokens, cells, metric, options);
        return Tensor.FromArray(values, shape).MoveToOuterScope();
    }
}
