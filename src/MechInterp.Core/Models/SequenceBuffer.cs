namespace MechInterp.Models;

/// <summary>
/// A tensor [batch, length, ...] that grows along dim 1 without copying what it holds on every append: the data lives
/// in a preallocated buffer [batch, capacity, ...]; <see cref="Append"/> writes only the new entries into place and
/// returns a view of the filled part. When the capacity runs out the buffer is replaced by one at least twice as long
/// (the filled part copied once), so appending n entries one at a time copies O(n) elements in all. Views handed out
/// earlier keep the storage they were made from alive and stay valid: later appends write past their end, and a
/// growth leaves their storage untouched.
/// </summary>
internal sealed class SequenceBuffer : IDisposable
{
    /// <summary>The smallest capacity a grown buffer gets.</summary>
    public const long MinimumCapacity = 16;

    private Tensor? _buffer; // [batch, capacity, ...], detached from every scope

    /// <summary>Number of entries along dim 1.</summary>
    public long Length { get; private set; }

    /// <summary>Entries the buffer holds before it must grow.</summary>
    public long Capacity => _buffer?.Shape[1] ?? 0;

    /// <summary>Size of dim 0 (0 while empty).</summary>
    public long Batch => _buffer?.Shape[0] ?? 0;

    /// <summary>Appends <paramref name="x"/> [batch, p, ...] after the filled part; returns a view of all entries
    /// [batch, Length, ...] (a new tensor in the caller's scope). <paramref name="minCapacity"/> sizes the first buffer
    /// (e.g. the length a generation will reach) so that it never grows. A buffer of batch 1 is widened when a
    /// larger batch arrives, and an x of batch 1 is broadcast over a larger buffer.</summary>
    public Tensor Append(Tensor x, long minCapacity = 0)
    {
        if (x.Rank < 2) throw new ArgumentException($"SequenceBuffer.Append needs [batch, length, ...], got {Tensor.ShapeString(x.Shape)}", nameof(x));
        long p = x.Shape[1];
        if (_buffer is null) _buffer = Allocate(x, x.Shape[0], Math.Max(minCapacity, p));
        else
        {
            CheckCompatible(x);
            long batch = Math.Max(Batch, x.Shape[0]);
            if (Length + p > Capacity || batch != Batch) Grow(batch, Length + p);
        }
        var buffer = _buffer!;
        using (var slot = Slice(buffer, Length, p))
        {
            var source = x.Shape[0] == buffer.Shape[0] ? x : x.Expand([buffer.Shape[0], .. x.Shape[1..]]);
            slot.CopyInPlace(source);
            if (!ReferenceEquals(source, x)) source.Dispose();
        }
        Length += p;
        return Filled();
    }

    /// <summary>A view of the filled part [batch, Length, ...] (a new tensor in the caller's scope); null while empty.</summary>
    public Tensor? View() => _buffer is null ? null : Filled();

    private Tensor Filled() => Slice(_buffer!, 0, Length);

    /// <summary>Entries [start, start + length) of dim 1 as a new view (never the buffer object itself, which
    /// <see cref="Tensor.Narrow"/> returns for the whole range: a view may be disposed, or outlive a growth).</summary>
    private static Tensor Slice(Tensor buffer, long start, long length) => buffer.NarrowView(1, start, length);

    private void CheckCompatible(Tensor x)
    {
        var b = _buffer!;
        bool batchOk = x.Shape[0] == b.Shape[0] || x.Shape[0] == 1 || b.Shape[0] == 1;
        if (!batchOk || x.Rank != b.Rank || !x.Shape.AsSpan(2).SequenceEqual(b.Shape.AsSpan(2)) || x.DType != b.DType || x.Device != b.Device)
            throw new ArgumentException($"cannot append a {Tensor.ShapeString(x.Shape)} {x.DType} tensor on {x.Device} to a cache of {Tensor.ShapeString(b.Shape)} {b.DType} entries on {b.Device}");
    }

    /// <summary>Moves the filled part into a new buffer of at least twice the capacity (and <paramref name="batch"/> rows).</summary>
    private void Grow(long batch, long needed)
    {
        var old = _buffer!;
        long capacity = Math.Max(needed, Math.Max(2 * old.Shape[1], MinimumCapacity));
        var fresh = Allocate(old, batch, capacity);
        if (Length > 0)
        {
            using var from = Slice(old, 0, Length);
            using var wide = batch == old.Shape[0] ? null : from.Expand([batch, .. from.Shape[1..]]);
            using var to = Slice(fresh, 0, Length);
            to.CopyInPlace(wide ?? from);
        }
        _buffer = fresh;
        old.Dispose(); // views handed out earlier hold their own reference to the old storage
    }

    private static Tensor Allocate(Tensor like, long batch, long capacity)
    {
        var shape = (long[])like.Shape.Clone();
        shape[0] = batch;
        shape[1] = capacity;
        using var _ = GradMode.NoGrad();
        return Tensor.Zeros(shape, like.DType, like.Device).DetachFromScopes();
    }

    /// <summary>Frees the buffer and empties the sequence; the next append starts a new buffer. Views handed out keep
    /// their storage until they are disposed.</summary>
    public void Clear()
    {
        _buffer?.Dispose();
        _buffer = null;
        Length = 0;
    }

    /// <summary>Frees the buffer (as <see cref="Clear"/>).</summary>
    public void Dispose() => Clear();
}
