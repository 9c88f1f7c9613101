using MechInterp.Patching;

namespace MechInterp.Attribution;

// AtP* (Kramár et al. 2024), fix 2, GradDrop: a component can look unimportant to AtP because its effects through
// different later paths cancel in the total gradient. Re-running the backward pass with the gradient through one layer's
// residual contributions (its hook_attn_out and hook_mlp_out) set to zero, once per layer, exposes such cancellations:
// an estimate that stays near zero under every drop is robustly small; one that grows when a layer is dropped is not.
public static partial class AttributionPatching
{
    /// <summary>
    /// GradDrop for a site kind: AtP of <paramref name="activation"/> along <paramref name="axes"/> with the gradient through
    /// layer ℓ's attention and MLP outputs dropped, for every ℓ → <c>PerDrop</c> [n_layers (dropped), n_layers, axis
    /// sizes...], and their combination Σ_ℓ |estimate_ℓ| / (n_layers − 1) → <c>Combined</c> [n_layers, axis sizes...]
    /// (a magnitude: use it to rank sites for verification, as AtP* does, not as a signed effect).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="sourceTokens">Token ids [batch, pos] whose activations are patched in (clean for denoising).</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run whose gradient is taken (corrupted for denoising).</param>
    /// <param name="metric">Differentiable map of logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="activation">Short activation name ("resid_pre", "z", "mlp_out", ...).</param>
    /// <param name="axes">The axes kept, in result order.</param>
    /// <remarks>Costs one backward pass per layer. Dropping a layer at or after a site's own layer is what can change its
    /// estimate; for layers before it the estimate is plain AtP (gradients flow only backwards).</remarks>
    public static (Tensor PerDrop, Tensor Combined) GradDrop(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric,
        string activation, IReadOnlyList<PatchAxis> axes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(axes);
        using var scope = Tensor.Scope();
        int layers = model.Config.NLayers;
        var names = Enumerable.Range(0, layers).Select(l => model.GetHookPoint(ActName.Get(activation, l)).Name).ToArray();
        var set = names.ToHashSet(StringComparer.Ordinal);
        using var source = Ablation.CacheOf(model, sourceTokens, set.Contains);
        var perDrop = new List<Tensor>(layers);
        for (int dropped = 0; dropped < layers; dropped++)
        {
            var drop = new List<string> { ActName.AttnOut(dropped) };
            if (model.HookDict.ContainsKey(ActName.MlpOut(dropped))) drop.Add(ActName.MlpOut(dropped));
            var (grads, acts) = Gradients(model, baseTokens, metric, names, drop);
            try
            {
                perDrop.Add(Tensor.Stack(names.Select(n => KeepAxes(n, (grads[n] * (source[n] - acts[n])).Sum(0), axes)).ToList())); // [layers, axes...]
            }
            finally
            {
                foreach (var g in grads.Values) g.Dispose();
            }
        }
        var all = Tensor.Stack(perDrop); // [dropped, layers, axes...]
        var combined = all.Abs().Sum(0) / Math.Max(1, layers - 1);
        static Tensor Out(Tensor t) => t.To(DType.Float32).To(Device.Cpu).Contiguous().MoveToOuterScope();
        return (Out(all), Out(combined));
    }
}
