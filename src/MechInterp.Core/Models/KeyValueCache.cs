using MechInterp.Models;

namespace MechInterp;

/// <summary>
/// Keys and values of earlier tokens for every layer (stored as they leave hook_k/hook_v, before rotary), plus
/// the attention mask and position ids of those tokens, so generation processes only the new token each step.
/// Every layer's keys and values live in a preallocated buffer that doubles when it fills up: a step writes only its
/// own tokens into place, and attention reads views of the filled part (<see cref="SequenceBuffer"/>).
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly SequenceBuffer[] _keys, _values;
    private readonly SequenceBuffer _positions = new(), _padding = new();
    private readonly long _initialCapacity;
    private Tensor? _positionsView, _paddingView, _realTokens;

    /// <summary>Creates an empty cache for <paramref name="layers"/> layers; its buffers are sized by the first pass and
    /// double whenever they fill up.</summary>
    public KeyValueCache(int layers) : this(layers, 0) { }

    /// <summary>Creates an empty cache for <paramref name="layers"/> layers with room for <paramref name="capacity"/>
    /// tokens before any buffer has to grow (e.g. prompt length + new tokens of a generation); it still grows past it.</summary>
    public KeyValueCache(int layers, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _initialCapacity = capacity;
        _keys = new SequenceBuffer[layers];
        _values = new SequenceBuffer[layers];
        for (int i = 0; i < layers; i++) { _keys[i] = new SequenceBuffer(); _values[i] = new SequenceBuffer(); }
    }

    /// <summary>Number of cached tokens.</summary>
    public long Length => _keys[^1].Capacity > 0 ? _keys[^1].Length : _keys[0].Length;

    /// <summary>Tokens the first layer's buffers hold before they grow again (0 while empty).</summary>
    public long Capacity => _keys[0].Capacity;

    /// <summary>Padding mask of cached tokens [batch, length] (Bool), when a mask was given.</summary>
    public Tensor? PaddingMask => _paddingView;

    /// <summary>Position ids of cached tokens [batch or 1, length].</summary>
    public Tensor? Positions => _positionsView;

    /// <summary>Number of real (unpadded) tokens per row so far [batch, 1] (Int64), once a mask was given: the next
    /// real token's position id.</summary>
    internal Tensor? RealTokens => _realTokens;

    /// <summary>Appends this step's keys and values for <paramref name="layer"/>; returns all of them (views of the cache,
    /// or, when this step's keys or values record gradients, the cached ones followed by them so gradients reach them).</summary>
    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        bool graph = GradMode.IsEnabled && (k.RequiresGrad || v.RequiresGrad);
        var pastK = graph ? _keys[layer].View() : null;
        var pastV = graph ? _values[layer].View() : null;
        var allK = _keys[layer].Append(k, _initialCapacity);
        var allV = _values[layer].Append(v, _initialCapacity);
        if (!graph) return (allK, allV);
        allK.Dispose();
        allV.Dispose();
        return (pastK is null ? k : Tensor.Concat([pastK, k], 1), pastV is null ? v : Tensor.Concat([pastV, v], 1));
    }

    /// <summary>Records a pass over <paramref name="p"/> new tokens before its blocks run: appends their position ids
    /// [batch or 1, p] and padding (<paramref name="padding"/>: [batch, p] for the new tokens, [batch, Length + p] for the
    /// whole sequence, or null when all are real). Returns the position ids and padding mask of all keys (cached first).</summary>
    internal (Tensor KeyPositions, Tensor? KeyPadding) Advance(Tensor positions, Tensor? padding, long batch, long p)
    {
        long past = Length;
        var keyPositions = _positions.Append(positions, _initialCapacity);
        Replace(ref _positionsView, _positions.View());
        Tensor? keyPadding = null;
        if (padding is not null && padding.Shape[1] != p)
        {
            _padding.Clear(); // the whole sequence's mask replaces the cached one
            keyPadding = _padding.Append(padding, _initialCapacity);
            Replace(ref _realTokens, padding.To(DType.Int64).Sum(1, keepDim: true));
        }
        else if (padding is not null || _padding.Capacity > 0)
        {
            var device = positions.Device;
            if (_padding.Capacity == 0 && past > 0)
                using (var earlier = Tensor.Ones([batch, past], DType.Bool, device)) _padding.Append(earlier, _initialCapacity);
            var columns = padding ?? Tensor.Ones([batch, p], DType.Bool, device);
            keyPadding = _padding.Append(columns, _initialCapacity);
            var counted = columns.To(DType.Int64).Sum(1, keepDim: true);
            Replace(ref _realTokens, _realTokens is null ? (past > 0 ? counted + past : counted) : _realTokens + counted);
        }
        if (keyPadding is not null) Replace(ref _paddingView, _padding.View());
        return (keyPositions, keyPadding);
    }

    private static void Replace(ref Tensor? field, Tensor? value)
    {
        var old = field;
        field = value?.DetachFromScopes();
        if (old is not null && !ReferenceEquals(old, field)) old.Dispose();
    }

    /// <summary>Frees the cached tensors.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++) { _keys[i].Dispose(); _values[i].Dispose(); }
        _positions.Dispose();
        _padding.Dispose();
        Replace(ref _positionsView, null);
        Replace(ref _paddingView, null);
        Replace(ref _realTokens, null);
    }
}
