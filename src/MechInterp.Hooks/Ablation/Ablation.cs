using MechInterp.Patching;

namespace MechInterp;

/// <summary>
/// Ablation: knock a component out and see how much the metric moves. Each cell of a sweep replaces one component's
/// activation (a head's z, a neuron, a layer's output, any hook and index) by an <see cref="AblationValue"/> in one run
/// of the same tokens; the result holds the raw metric of each ablated run.
/// </summary>
/// <remarks>
/// Zero ablation is the bluntest (it also removes biases and pushes later layers off-distribution); mean ablation keeps
/// the average signal and removes only what varies with the prompt; resample ablation (Chan et al. 2022, causal scrubbing)
/// replaces it with what the component does on other prompts, the cleanest test that a component carries
/// prompt-specific information. Ablations run through the same engine as <see cref="ActivationPatching"/> (batched,
/// starting at the ablated layer). Mean ablation of heads is over batch and positions of the same run. For an ablated model
/// kept in use (generation), see <see cref="Scope(IHookedModel, IEnumerable{PatchCell})"/>.
/// </remarks>
public static partial class Ablation
{
    /// <summary>Each head's <c>hook_z</c> set to zero at every position of every prompt → [n_layers, n_heads] metric values.</summary>
    /// <param name="model">The model (as loaded: with fold_value_biases, GPT-2's z lacks the value bias and zeroing it differs).</param>
    /// <param name="tokens">Token ids [batch, pos].</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="options">Batching, start layer and progress.</param>
    public static Tensor ZeroHeads(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Sweep(model, tokens, metric, "z", [PatchAxis.Head], AblationValue.Zero, options);

    /// <summary>Each head's <c>hook_z</c> set to its mean over batch and positions of this same run (one d_head vector
    /// everywhere) → [n_layers, n_heads] metric values.</summary>
    /// <inheritdoc cref="ZeroHeads" path="/param"/>
    public static Tensor MeanHeads(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, PatchingOptions? options = null) =>
        Sweep(model, tokens, metric, "z", [PatchAxis.Head], AblationValue.Mean(), options);

    /// <summary>Each head's <c>hook_z</c> replaced by <paramref name="value"/> → [n_layers, n_heads].</summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">Token ids [batch, pos].</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="value">Zero, mean or resample.</param>
    /// <param name="options">Batching, start layer and progress.</param>
    public static Tensor Heads(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, AblationValue value, PatchingOptions? options = null) =>
        Sweep(model, tokens, metric, "z", [PatchAxis.Head], value, options);

    /// <summary>Each MLP neuron (<c>mlp.hook_post</c>) at every position replaced by <paramref name="value"/> → [n_layers, d_mlp].</summary>
    /// <inheritdoc cref="Heads" path="/param"/>
    public static Tensor Neurons(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, AblationValue value, PatchingOptions? options = null) =>
        Sweep(model, tokens, metric, "post", [PatchAxis.Neuron], value, options);

    /// <summary>Each layer's whole attention output (<c>hook_attn_out</c>) replaced by <paramref name="value"/> → [n_layers].</summary>
    /// <inheritdoc cref="Heads" path="/param"/>
    public static Tensor AttentionLayers(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, AblationValue value, PatchingOptions? options = null) =>
        Sweep(model, tokens, metric, "attn_out", [], value, options);

    /// <summary>Each layer's whole MLP output (<c>hook_mlp_out</c>) replaced by <paramref name="value"/> → [n_layers].</summary>
    /// <inheritdoc cref="Heads" path="/param"/>
    public static Tensor MlpLayers(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, AblationValue value, PatchingOptions? options = null) =>
        Sweep(model, tokens, metric, "mlp_out", [], value, options);

    /// <summary>
    /// The generic ablation sweep: for every layer, activation <paramref name="activation"/> (short name) replaced by
    /// <paramref name="value"/> at each index along <paramref name="axes"/> (none: the whole activation) → [n_layers, axis sizes...].
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">Token ids [batch, pos].</param>
    /// <param name="metric">Maps logits [batch, pos, d_vocab] to one number.</param>
    /// <param name="activation">Short activation name ("z", "post", "attn_out", "pattern", ...).</param>
    /// <param name="axes">Axes iterated, in result order.</param>
    /// <param name="value">Zero, mean or resample.</param>
    /// <param name="options">Batching, start layer and progress.</param>
    public static Tensor Sweep(IHookedModel model, Tensor tokens, Func<Tensor, Tensor> metric, string activation, IReadOnlyList<PatchAxis> axes,
        AblationValue value, PatchingOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(value);
        using var scope = Tensor.Scope();
        var names = Enumerable.Range(0, model.Config.NLayers).Select(l => ActName.Get(activation, l)).ToArray();
        var own = OwnRun(model, tokens, names);
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Tensor ValueAt(string hook) => values.TryGetValue(hook, out var v) ? v : values[hook] = value.For(hook, () => own.Value, model.Device);
        var (cells, shape) = PatchGrid.Build(model, activation, axes, h => own.Value[h].Shape, ValueAt);
        var results = PatchSweep.Run(model, tokens, cells, metric, options);
        return Tensor.FromArray(results, shape).MoveToOuterScope();
    }

    /// <summary>The unablated run's activations at <paramref name="names"/> (for shapes and run means), made on first use.</summary>
    private static Lazy<ActivationCache> OwnRun(IHookedModel model, Tensor tokens, string[] names)
    {
        foreach (var n in names) model.GetHookPoint(n);
        var set = names.ToHashSet(StringComparer.Ordinal);
        return new Lazy<ActivationCache>(() => CacheOf(model, tokens, set.Contains), LazyThreadSafetyMode.None);
    }

    internal static ActivationCache CacheOf(IHookedModel model, Tensor tokens, Func<string, bool> filter) =>
        model.RunWithCache(tokens, filter).Cache;
}
