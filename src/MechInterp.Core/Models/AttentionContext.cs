namespace MechInterp.Models;

/// <summary>
/// What every attention layer of one forward pass shares: positions of queries and keys, the padding mask, the
/// causal/local masks (built once per pass and reused across layers) and the optional key/value cache.
/// </summary>
public sealed class AttentionContext
{
    private readonly Dictionary<(AttentionType, long, long), Tensor?> _masks = [];
    private readonly Tensor? _keyPadding; // [b, kv] Bool: true = real token
    private readonly Tensor _keyPositions; // [b or 1, kv]
    private readonly bool _bidirectional;
    private readonly int? _window;

    internal AttentionContext(Tensor queryPositions, Tensor keyPositions, Tensor? keyPadding, bool bidirectional, int? window, KeyValueCache? cache)
    {
        QueryPositions = queryPositions;
        _keyPositions = keyPositions;
        _keyPadding = keyPadding;
        _bidirectional = bidirectional;
        _window = window;
        Cache = cache;
    }

    /// <summary>Which math this pass may run (hook uses and gradient recording), decided once for the pass.</summary>
    internal ForwardPlan Plan { get; } = ForwardPlan.Begin();

    /// <summary>Position id of every query [batch or 1, pos] (Int64).</summary>
    public Tensor QueryPositions { get; }

    /// <summary>The key/value cache being extended, if generating with one.</summary>
    public KeyValueCache? Cache { get; }

    /// <summary>Position ids of all keys (cached ones first).</summary>
    public Tensor KeyPositions(long kvLen) => _keyPositions.Shape[1] == kvLen ? _keyPositions : _keyPositions.Narrow(1, _keyPositions.Shape[1] - kvLen, kvLen);

    /// <summary>True when the mask of <paramref name="type"/> is exactly causal (query i sees keys up to i + kv - q: no
    /// padding, no local window, not bidirectional), so attention can take the fused <see cref="Tensor.CausalSoftmax"/>.</summary>
    public bool IsPlainCausal(AttentionType type) =>
        !_bidirectional && _keyPadding is null && !(type == AttentionType.Local && _window is not null);

    /// <summary>True when a padding mask applies, so some query (a padding position) may see no key at all.</summary>
    internal bool HasPadding => _keyPadding is not null;

    /// <summary>Which keys each query may see, [batch or 1, 1, q, kv] Bool; null when everything is visible.</summary>
    public Tensor? Mask(AttentionType type, long q, long kv)
    {
        var key = (type, q, kv);
        if (_masks.TryGetValue(key, out var cached)) return cached;
        using var callerScope = TensorScope.SuspendTransient(); // shared by later blocks: not one block's temporary
        Tensor? mask = null;
        var device = QueryPositions.Device;
        if (!_bidirectional)
        {
            long offset = kv - q;
            var qi = Tensor.Arange(offset, offset + q, device: device).Unsqueeze(1);
            var kj = Tensor.Arange(kv, device: device).Unsqueeze(0);
            mask = kj <= qi;
            if (type == AttentionType.Local && _window is { } w)
                mask = mask & (kj > qi - w);
            mask = mask.Reshape(1, 1, q, kv);
        }
        if (_keyPadding is not null)
        {
            var pad = _keyPadding.Narrow(1, _keyPadding.Shape[1] - kv, kv).Reshape(_keyPadding.Shape[0], 1, 1, kv);
            mask = mask is null ? pad : mask & pad;
        }
        _masks[key] = mask;
        return mask;
    }

    /// <summary>Forgets the cached masks (they belong to the caller's scope: the backward pass may still need them).</summary>
    internal void Release() => _masks.Clear();
}
