namespace MechInterp;

/// <summary>
/// A selection along one dimension, as TransformerLens's <c>Slice</c> takes it for <c>pos_slice</c>,
/// <c>batch_slice</c> and <c>neuron_slice</c>: everything (the default), one index (the dimension is dropped, as
/// <c>x[:, -1]</c> drops it in Python), a range (<c>^1..</c>, <c>3..7</c>), or a list of indices. Converts implicitly from
/// <see cref="int"/>, <see cref="Range"/>, <c>int[]</c> and <c>long[]</c>; negative indices count from the end.
/// </summary>
public readonly struct Slice : IEquatable<Slice>
{
    private readonly int? _index;
    private readonly Range? _range;
    private readonly long[]? _indices;

    private Slice(int? index, Range? range, long[]? indices)
    {
        _index = index;
        _range = range;
        _indices = indices;
    }

    /// <summary>Everything (TransformerLens's <c>Slice(None)</c>).</summary>
    public static Slice All => default;

    /// <summary>One index: the dimension is dropped.</summary>
    public static Slice At(int index) => new(index, null, null);

    /// <summary>A contiguous range; the dimension stays.</summary>
    public static Slice Of(Range range) => new(null, range, null);

    /// <summary>Listed indices, in the order given; the dimension stays.</summary>
    public static Slice Indices(params long[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return new(null, null, [.. indices]);
    }

    /// <summary>One index (drops the dimension).</summary>
    public static implicit operator Slice(int index) => At(index);
    /// <summary>A range.</summary>
    public static implicit operator Slice(Range range) => Of(range);
    /// <summary>Listed indices.</summary>
    public static implicit operator Slice(int[] indices) => Indices([.. (indices ?? throw new ArgumentNullException(nameof(indices))).Select(i => (long)i)]);
    /// <summary>Listed indices.</summary>
    public static implicit operator Slice(long[] indices) => Indices(indices);

    /// <summary>True for <see cref="All"/>.</summary>
    public bool IsAll => _index is null && _range is null && _indices is null;

    /// <summary>True when applying the slice removes the dimension (a single index).</summary>
    public bool DropsDimension => _index is not null;

    /// <summary>Applies the slice to dimension <paramref name="dim"/> (negative counts from the last) of <paramref name="tensor"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The dimension or an index is out of range.</exception>
    public Tensor Apply(Tensor tensor, int dim = 0)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (IsAll) return tensor;
        int d = dim < 0 ? dim + tensor.Rank : dim;
        if (d < 0 || d >= tensor.Rank)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"cannot slice dimension {dim} of a tensor of shape {Tensor.ShapeString(tensor.Shape)}");
        long size = tensor.Shape[d];
        if (_index is int i)
        {
            long at = i < 0 ? i + size : i;
            if (at < 0 || at >= size) throw new ArgumentOutOfRangeException(nameof(tensor), $"index {i} is outside dimension {d} of size {size}");
            return tensor.Select(d, at);
        }
        if (_range is { } r)
            return tensor[[.. Enumerable.Repeat((TensorIndex)(..), d), r]];
        var picked = _indices!.Select(x => x < 0 ? x + size : x).ToArray();
        foreach (var x in picked)
            if (x < 0 || x >= size) throw new ArgumentOutOfRangeException(nameof(tensor), $"index {x} is outside dimension {d} of size {size}");
        return tensor.IndexSelect(d, Tensor.FromArray(picked, picked.Length).To(tensor.Device));
    }

    /// <inheritdoc />
    public bool Equals(Slice other) =>
        _index == other._index && Nullable.Equals(_range, other._range) &&
        (_indices is null ? other._indices is null : other._indices is not null && _indices.AsSpan().SequenceEqual(other._indices));

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Slice s && Equals(s);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_index, _range, _indices?.Length);

    /// <summary>Equality.</summary>
    public static bool operator ==(Slice left, Slice right) => left.Equals(right);
    /// <summary>Inequality.</summary>
    public static bool operator !=(Slice left, Slice right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() =>
        IsAll ? "Slice(all)" : _index is int i ? $"Slice({i})" : _range is { } r ? $"Slice({r})" : $"Slice([{string.Join(", ", _indices!)}])";
}
