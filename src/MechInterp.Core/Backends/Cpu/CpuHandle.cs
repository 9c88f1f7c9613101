namespace MechInterp.Backends.Cpu;

/// <summary>
/// A strided view onto <see cref="CpuStorage"/>: element (i0, i1, ...) lives at
/// <c>Offset + i0*Strides[0] + i1*Strides[1] + ...</c>. Views share storage; Dispose is idempotent.
/// </summary>
internal sealed class CpuHandle : TensorHandle
{
    private int _disposed;

    public CpuHandle(CpuStorage storage, long offset, long[] shape, long[] strides)
    {
        Storage = storage;
        Offset = offset;
        ShapeArray = shape;
        Strides = strides;
    }

    /// <summary>A new contiguous tensor with fresh (pooled, uninitialised) storage.</summary>
    public static CpuHandle Allocate(DType dtype, long[] shape) =>
        new(CpuStorage.Allocate(dtype, ShapeUtil.NumElements(shape)), 0, shape, ShapeUtil.ContiguousStrides(shape));

    /// <summary>The shared storage.</summary>
    public CpuStorage Storage { get; }

    /// <summary>Element offset of index (0, 0, ...).</summary>
    public long Offset { get; }

    /// <summary>Element strides per dim (0 for broadcast dims).</summary>
    public long[] Strides { get; }

    /// <summary>The shape without a defensive copy.</summary>
    public long[] ShapeArray { get; }

    /// <inheritdoc />
    public override long[] Shape => ShapeArray;

    /// <inheritdoc />
    public override DType DType => Storage.DType;

    /// <inheritdoc />
    public override long WriteVersion => Storage.Version;

    /// <inheritdoc />
    public override IBackend Backend => CpuBackend.Instance;

    /// <summary>Rank.</summary>
    public int Rank => ShapeArray.Length;

    /// <summary>True when dense row-major (size-1 dims may have any stride).</summary>
    public bool IsContiguous
    {
        get
        {
            long expected = 1;
            for (int i = ShapeArray.Length - 1; i >= 0; i--)
            {
                if (ShapeArray[i] == 1) continue;
                if (ShapeArray[i] == 0) return true;
                if (Strides[i] != expected) return false;
                expected *= ShapeArray[i];
            }
            return true;
        }
    }

    /// <summary>The elements of a contiguous handle as a span of <typeparamref name="T"/> (same element size as the dtype).</summary>
    public Span<T> Span<T>() where T : unmanaged => Storage.Span<T>().Slice(checked((int)Offset), checked((int)NumElements));

    /// <summary>A new handle onto the same storage (takes a reference).</summary>
    public CpuHandle ViewOf(long offset, long[] shape, long[] strides)
    {
        Storage.AddRef();
        return new CpuHandle(Storage, offset, shape, strides);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Storage.Release();
    }

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;
}
