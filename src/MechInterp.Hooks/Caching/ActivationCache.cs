namespace MechInterp;

/// <summary>
/// Activations recorded by <c>model.RunWithCache(tokens)</c>, keyed by TransformerLens hook name
/// (gradients as <c>name + "_grad"</c>). Index by full name or by short name and layer (<c>cache["pattern", 0]</c>).
/// Owns its tensors: dispose it to free them. The analysis methods mirror TransformerLens's ActivationCache.
/// </summary>
public sealed partial class ActivationCache : IReadOnlyDictionary<string, Tensor>, IDisposable
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

    /// <summary>Cached tensors in forward order (TransformerLens's <c>cache.values()</c>).</summary>
    public IReadOnlyCollection<Tensor> Values => _store.Values;

    IEnumerable<string> IReadOnlyDictionary<string, Tensor>.Keys => _store.Keys;
    IEnumerable<Tensor> IReadOnlyDictionary<string, Tensor>.Values => _store.Values;

    /// <summary>(name, tensor) pairs in forward order (TransformerLens's <c>cache.items()</c>; <c>foreach (var (name,
    /// act) in cache)</c> iterates the same pairs).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> Items => _store;

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _store.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Number of cached tensors.</summary>
    public int Count => _store.Count;

    /// <summary>True when <paramref name="name"/> (full name) is cached.</summary>
    public bool ContainsKey(string name) => _store.ContainsKey(name);

    /// <summary>The activation called <paramref name="name"/>: a full name, a short name such as "embed", or a compact
    /// form such as "k6", "pre5" or "scale4ln1" (see <see cref="ActName.Get"/>).</summary>
    public Tensor this[string name] => _store.TryGetValue(name, out var t) ? t : Get(ActName.Get(name));

    /// <summary>The activation with short name <paramref name="name"/> at <paramref name="layer"/>, e.g. ("pattern", 0) or
    /// ("k", -1) for the last layer (negative layers count from the end, as in TransformerLens); <paramref name="layerType"/>
    /// picks "ln1"/"ln2"/"ln_final" for "scale" and "normalized", or a sublayer alias ("a", "m", "attn", "mlp").</summary>
    public Tensor this[string name, int layer, string? layerType = null] => Get(ActName.Get(name, ResolveLayer(layer), layerType));

    /// <summary>Tries to read a full name.</summary>
    public bool TryGetValue(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => _store.TryGetValue(name, out value!);

    /// <summary>A layer index with negative values counted from the end (-1 = the last layer).</summary>
    private int ResolveLayer(int layer)
    {
        int n = Model.Config.NLayers;
        int l = layer < 0 ? layer + n : layer;
        if (l < 0 || l >= n) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has {n} layers: use 0..{n - 1}, or -1..-{n} from the end");
        return l;
    }

    private Tensor Get(string fullName)
    {
        if (_store.TryGetValue(fullName, out var t)) return t;
        var near = _store.Keys.OrderBy(k => Math.Abs(k.Length - fullName.Length) + (k.Contains(fullName.Split('.').Last(), StringComparison.Ordinal) ? 0 : 100)).Take(3);
        throw new KeyNotFoundException($"activation '{fullName}' is not in this cache ({_store.Count} entries; e.g. {string.Join(", ", near)}): " +
            "check the name, or run RunWithCache without a names filter that excludes it");
    }

    /// <summary>A cache of the first (only) batch element with the batch dim removed (TransformerLens's
    /// remove_batch_dim; a new cache, this one is left as it is). Returns this cache when it has no batch dim.</summary>
    /// <exception cref="InvalidOperationException">The batch holds more than one element.</exception>
    public ActivationCache RemoveBatchDim()
    {
        if (!HasBatchDim) return this;
        var first = _store.Values.FirstOrDefault();
        if (first is not null && first.Shape[0] != 1)
            throw new InvalidOperationException($"RemoveBatchDim needs batch size 1, the cache has {first.Shape[0]}: take one element first with ApplySliceToBatchDim(i)");
        return new ActivationCache(_store.ToDictionary(kv => kv.Key, kv => kv.Value.Squeeze(0).DetachFromScopes()), Model, false);
    }

    /// <summary>A cache of some batch elements (TransformerLens's apply_slice_to_batch_dim): an index drops the batch
    /// dim (<see cref="HasBatchDim"/> false), a range or a list keeps it. A new cache; this one is left as it is.</summary>
    /// <exception cref="InvalidOperationException">The cache has no batch dim.</exception>
    public ActivationCache ApplySliceToBatchDim(Slice batchSlice)
    {
        if (batchSlice.IsAll) return new ActivationCache(_store.ToDictionary(kv => kv.Key, kv => kv.Value.Detach().DetachFromScopes()), Model, HasBatchDim);
        if (!HasBatchDim) throw new InvalidOperationException("this cache has no batch dim (RemoveBatchDim or an index slice made it): index its tensors directly");
        return new ActivationCache(_store.ToDictionary(kv => kv.Key, kv => batchSlice.Apply(kv.Value, 0).DetachFromScopes()), Model, !batchSlice.DropsDimension);
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
