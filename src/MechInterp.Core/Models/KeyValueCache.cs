namespace MechInterp;

/// <summary>
/// Keys and values of earlier tokens for every layer (stored as they leave hook_k/hook_v, before rotary), plus
/// the attention mask and position ids of those tokens, so generation processes only the new token each step.
/// </summary>
public sealed class KeyValueCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;

    /// <summary>Creates an empty cache for <paramref name="layers"/> layers.</summary>
    public KeyValueCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Number of cached tokens.</summary>
    public long Length => _keys[^1]?.Shape[1] ?? _keys[0]?.Shape[1] ?? 0;

    /// <summary>Padding mask of cached tokens [batch, length] (Bool), when a mask was given.</summary>
    public Tensor? PaddingMask { get; internal set; }

    /// <summary>Position ids of cached tokens [batch or 1, length].</summary>
    public Tensor? Positions { get; internal set; }

    /// <summary>Appends this step's keys and values for <paramref name="layer"/>; returns all of them.</summary>
    internal (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        var prevK = _keys[layer];
        var prevV = _values[layer];
        var allK = prevK is null ? k.Contiguous() : Tensor.Concat([prevK, k], 1);
        var allV = prevV is null ? v.Contiguous() : Tensor.Concat([prevV, v], 1);
        if (ReferenceEquals(allK, k)) allK = k.Clone();
        if (ReferenceEquals(allV, v)) allV = v.Clone();
        allK.DetachFromScopes();
        allV.DetachFromScopes();
        _keys[layer] = allK.Detach().DetachFromScopes();
        _values[layer] = allV.Detach().DetachFromScopes();
        prevK?.Dispose();
        prevV?.Dispose();
        return (allK, allV);
    }

    internal void SetState(Tensor? padding, Tensor positions)
    {
        var oldPad = PaddingMask;
        var oldPos = Positions;
        PaddingMask = padding?.DetachFromScopes();
        Positions = positions.DetachFromScopes();
        if (oldPad is not null && !ReferenceEquals(oldPad, PaddingMask)) oldPad.Dispose();
        if (oldPos is not null && !ReferenceEquals(oldPos, Positions)) oldPos.Dispose();
    }

    /// <summary>Frees the cached tensors.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose(); _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
        PaddingMask?.Dispose();
        Positions?.Dispose();
    }
}
