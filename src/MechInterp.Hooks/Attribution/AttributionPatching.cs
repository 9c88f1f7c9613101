using MechInterp.Patching;

namespace MechInterp.Attribution;

/// <summary>
/// Attribution patching (AtP): a first-order estimate of every activation-patching result at once, from one forward and
/// one backward pass of the base run and one forward pass of the source run.
/// </summary>
/// <remarks>
/// <para><b>The technique</b> (Nanda 2023, "Attribution patching"; Kramár et al. 2024, "AtP*"). Patching site s changes the
/// metric by M(base with a_s ← a_s^source) − M(base). Expanding M to first order around the base run's activations gives
/// ∂M/∂a_s · (a_s^source − a_s^base): the gradient of the metric on the base run times the difference of activations,
/// summed over whatever the site covers. One backward pass gives the gradient at every site, so a whole heatmap (or every
/// neuron, or every head at every position) costs what two forward passes and one backward pass cost, against one forward
/// pass per cell for <see cref="ActivationPatching"/>.</para>
/// <para><b>When to trust it.</b> It is exact for sites the metric depends on linearly and poor where it is not: attention
/// softmaxes that saturate, LayerNorm/RMSNorm scales that move, large differences between the two runs. Kramár et al.
/// find false negatives from saturated attention (their fix recomputes the softmax for query/key sites) and from
/// cancelling paths. On small random models the agreement with exact patching can be poor (the oracle's llama-tiny gives
/// Pearson r from −0.08 to 0.999 across site kinds): use it to rank candidates, then verify the top ones by patching.</para>
/// <para><b>Here.</b> Results are [n_layers, ...] float32 tensors on the CPU holding Σ over prompts (and over the dims a
/// site covers) of grad · (source − base): the estimate of <c>patched − base</c> metric, for the same base and source as
/// <see cref="ActivationPatching"/> (base = corrupted, source = clean for denoising). The metric must be differentiable.</para>
/// </remarks>
public static partial class AttributionPatching
{
    /// <summary>
    /// The core: for every layer, Σ_batch grad·(source − base) of activation <paramref name="activation"/> (short name),
    /// summed over every dim except <paramref name="axes"/> → [n_layers, size of each axis...].
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="sourceTokens">Token ids [batch, pos] whose activations are patched in (clean for denoising).</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run whose gradient is taken (corrupted for denoising).</param>
    /// <param name="metric">Differentiable map of logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="activation">Short activation name ("resid_pre", "z", "pattern", ...).</param>
    /// <param name="axes">The axes kept, in result order.</param>
    /// <exception cref="ArgumentException">The metric does not return one differentiable number, or the runs' shapes differ.</exception>
    public static Tensor Generic(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric,
        string activation, IReadOnlyList<PatchAxis> axes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Distinct().Count() != axes.Count) throw new ArgumentException($"axes [{string.Join(", ", axes)}] repeat an axis: name each once", nameof(axes));
        using var scope = Tensor.Scope();
        var names = Enumerable.Range(0, model.Config.NLayers).Select(l => model.GetHookPoint(ActName.Get(activation, l)).Name).ToArray();
        var attribution = Elementwise(model, sourceTokens, baseTokens, metric, names);
        var layers = names.Select(n => KeepAxes(n, attribution[n], axes)).ToList();
        return Tensor.Stack(layers).To(DType.Float32).To(Device.Cpu).Contiguous().MoveToOuterScope();
    }

    /// <summary>
    /// The attribution of every element of each named activation: Σ over prompts of ∂M/∂a · (a_source − a_base), shaped
    /// like the activation without its batch dim. Sum it over any index set to estimate patching that set.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="sourceTokens">Token ids [batch, pos] whose activations are patched in.</param>
    /// <param name="baseTokens">Token ids [batch, pos] of the run whose gradient is taken.</param>
    /// <param name="metric">Differentiable map of logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="hooks">Full hook names.</param>
    public static IReadOnlyDictionary<string, Tensor> Elementwise(IHookedModel model, Tensor sourceTokens, Tensor baseTokens,
        Func<Tensor, Tensor> metric, IReadOnlyList<string> hooks)
    {
        var (grads, baseActs) = Gradients(model, baseTokens, metric, hooks);
        var set = hooks.ToHashSet(StringComparer.Ordinal);
        using var source = Ablation.CacheOf(model, sourceTokens, set.Contains);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var h in hooks)
        {
            var src = source[h];
            if (!src.Shape.SequenceEqual(baseActs[h].Shape))
                throw new ArgumentException($"'{h}' is {Tensor.ShapeString(src.Shape)} on the source run but {Tensor.ShapeString(baseActs[h].Shape)} on the base run: " +
                    "attribution patching needs source and base prompts of the same batch size and length", nameof(sourceTokens));
            result[h] = (grads[h] * (src - baseActs[h])).Sum(0); // [...] without batch
        }
        foreach (var g in grads.Values) g.Dispose(); // kept past the backward pass, which frees its own gradients
        return result;
    }

    /// <summary>One forward and backward pass of <paramref name="tokens"/>: d metric / d activation and the activation at
    /// each hook (batch first). The gradients belong to no scope: the caller disposes them.</summary>
    internal static (Dictionary<string, Tensor> Grads, Dictionary<string, Tensor> Activations) Gradients(IHookedModel model, Tensor tokens,
        Func<Tensor, Tensor> metric, IReadOnlyList<string> hooks, IReadOnlyCollection<string>? dropGradientsAt = null)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var grads = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var acts = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var gate = new object();
        var ctx = new HookContext();
        foreach (var name in hooks)
        {
            var point = model.GetHookPoint(name);
            ctx.AddObserver(point, (x, h) => { lock (gate) acts[h.Name] = x.Detach(); });
            ctx.Add(point, (g, h) => { lock (gate) grads[h.Name] = g.Detach().Clone().DetachFromScopes(); return null; }, HookDirection.Backward);
        }
        foreach (var name in dropGradientsAt ?? [])
            ctx.Add(model.GetHookPoint(name), (g, _) => Tensor.ZerosLike(g), HookDirection.Backward);
        using (ctx.Activate())
        {
            if (!GradMode.IsEnabled)
                throw new InvalidOperationException("attribution patching takes a gradient: do not call it inside GradMode.NoGrad()");
            var logits = model.Forward(tokens);
            var m = metric(logits);
            if (m.NumElements != 1)
                throw new ArgumentException($"the metric returned shape {Tensor.ShapeString(m.Shape)}: it must reduce logits [batch, pos, d_vocab] to one number", nameof(metric));
            if (!m.RequiresGrad)
                throw new ArgumentException("the metric's result does not depend differentiably on the logits (did it go through ToArray or Item?): build it from tensor ops", nameof(metric));
            m.Backward();
        }
        foreach (var name in hooks)
            if (!grads.ContainsKey(name))
                grads[name] = Tensor.ZerosLike(acts[name]).DetachFromScopes(); // the metric does not depend on this activation
        return (grads, acts);
    }

    /// <summary>Sums an attribution [activation dims without batch] over every dim but <paramref name="axes"/>, kept in axes order.</summary>
    private static Tensor KeepAxes(string hook, Tensor attribution, IReadOnlyList<PatchAxis> axes)
    {
        var dims = axes.Select(a => PatchAxes.Dim(hook, attribution.Rank + 1, a) - 1).ToArray(); // without batch
        var drop = Enumerable.Range(0, attribution.Rank).Where(d => !dims.Contains(d)).ToArray();
        var kept = drop.Length == 0 ? attribution : attribution.Sum(drop); // remaining dims in ascending order
        var ascending = dims.OrderBy(d => d).ToList();
        var order = dims.Select(d => ascending.IndexOf(d)).ToArray();
        return order.SequenceEqual(Enumerable.Range(0, order.Length)) ? kept : kept.Permute(order);
    }
}
