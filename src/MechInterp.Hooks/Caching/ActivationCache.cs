namespace MechInterp;

/// <summary>
/// Activations recorded by <c>model.RunWithCache(tokens)</c>, keyed by TransformerLens hook name
/// (gradients as <c>name + "_grad"</c>). Index by full name or by short name and layer (<c>cache["pattern", 0]</c>).
/// Owns its tensors: dispose it to free them. The analysis methods mirror TransformerLens's ActivationCache.
/// </summary>
public sealed partial class ActivationCache : IDisposable
{
    private readonly Dictionary<string, Tensor> _store;

    /// <summary>Wraps recorded activations of <paramref name="model"/> (a decoder or an encoder).</summary>
    public ActivationCache(Dictionary<string, Tensor> store, IHookedModel model, bool hasBatchDim = true)
    {
        _store = store;
        Model = model;
        HasBatchDim = hasBatchDim;
        Processing = model.Processing;
    }

    /// <summary>The model that produced the activations (<see cref="HookedTransformer"/> or <see cref="HookedEncoder"/>).</summary>
    public IHookedModel Model { get; }

    /// <summary>The decoder that produced the activations, for the analysis methods that read its weights.</summary>
    private HookedTransformer Decoder => Model as HookedTransformer ?? throw new NotSupportedException(
        $"this analysis reads decoder weights (W_O, W_U, ln_final) but the cache came from a {Model.GetType().Name}: index the cache by hook name instead (e.g. cache[\"blocks.0.attn.hook_pattern\"])");

    /// <summary>Weight processing of the model when the cache was made.</summary>
    public WeightProcessing Processing { get; }

    /// <summary>False after <see cref="RemoveBatchDim"/>.</summary>
    public bool HasBatchDim { get; }

    /// <summary>Cached names in forward order.</summary>
    public IReadOnlyCollection<string> Keys => _store.Keys;

    /// <summary>Number of cached tensors.</summary>
    public int Count => _store.Count;

    /// <summary>True when <paramref name="name"/> (full name) is cached.</summary>
    public bool ContainsKey(string name) => _store.ContainsKey(name);

    /// <summary>The activation called <paramref name="name"/> (full name, or a short name such as "embed").</summary>
    public Tensor this[string name] => Get(ActName.Get(name));

    /// <summary>The activation with short name <paramref name="name"/> at <paramref name="layer"/>, e.g. ("pattern", 0);
    /// <paramref name="layerType"/> picks "ln1"/"ln2"/"ln_final" for "scale" and "normalized".</summary>
    public Tensor this[string name, int layer, string? layerType = null] => Get(ActName.Get(name, layer, layerType));

    /// <summary>Tries to read a full name.</summary>
    public bool TryGetValue(string name, out Tensor value) => _store.TryGetValue(name, out value!);

    private Tensor Get(string fullName)
    {
        if (_store.TryGetValue(fullName, out var t)) return t;
        var near = _store.Keys.OrderBy(k => Math.Abs(k.Length - fullName.Length) + (k.Contains(fullName.Split('.').Last(), StringComparison.Ordinal) ? 0 : 100)).Take(3);
        throw new KeyNotFoundException($"activation '{fullName}' is not in this cache ({_store.Count} entries; e.g. {string.Join(", ", near)}): " +
            "check the name, or run RunWithCache without a names filter that excludes it");
    }

    /// <summary>A cache of the first (only) batch element with the batch dim removed.</summary>
    public ActivationCache RemoveBatchDim()
    {
        if (!HasBatchDim) return this;
        var first = _store.Values.FirstOrDefault();
        if (first is not null && first.Shape[0] != 1)
            throw new InvalidOperationException($"RemoveBatchDim needs batch size 1, the cache has {first.Shape[0]}");
        return new ActivationCache(_store.ToDictionary(kv => kv.Key, kv => kv.Value.Squeeze(0).DetachFromScopes()), Model, false);
    }

    /// <summary>A copy of the cache on another device (disposing one never frees the other's tensors).</summary>
    public ActivationCache ToDevice(Device device) =>
        new(_store.ToDictionary(kv => kv.Key, kv => (kv.Value.Device == device ? kv.Value.Detach() : kv.Value.To(device)).DetachFromScopes()), Model, HasBatchDim);

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        foreach (var t in _store.Values) t.Dispose();
        _store.Clear();
    }

    internal void Add(string name, Tensor value) => _store[name] = value.DetachFromScopes();
}
