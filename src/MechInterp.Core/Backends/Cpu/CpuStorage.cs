using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MechInterp.Backends.Cpu;

/// <summary>
/// Reference-counted typed buffer shared by a tensor and its views. The array may be longer than
/// <see cref="Length"/> (it comes from <see cref="BufferPool"/>); the last <see cref="Release"/> returns it.
/// </summary>
internal sealed class CpuStorage
{
    private Array? _data;
    private int _refs = 1;

    private CpuStorage(Array data, long length, DType dtype)
    {
        _data = data;
        Length = length;
        DType = dtype;
    }

    /// <summary>Logical number of elements.</summary>
    public long Length { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>The backing array (float[], double[], long[], int[], byte[], bool[], Half[] or ushort[]).</summary>
    public Array Data => _data ?? throw new ObjectDisposedException(nameof(CpuStorage), "the tensor's storage was released: the tensor (and every view of it) was disposed");

    /// <summary>Allocates (from the pool) storage for <paramref name="length"/> elements of <paramref name="dtype"/>; contents unspecified.</summary>
    public static CpuStorage Allocate(DType dtype, long length) => new(dtype switch
    {
        DType.Float32 => BufferPool.Rent<float>(length),
        DType.Float64 => BufferPool.Rent<double>(length),
        DType.Int64 => BufferPool.Rent<long>(length),
        DType.Int32 => BufferPool.Rent<int>(length),
        DType.UInt8 => BufferPool.Rent<byte>(length),
        DType.Bool => BufferPool.Rent<bool>(length),
        DType.Float16 => BufferPool.Rent<Half>(length),
        DType.BFloat16 => BufferPool.Rent<ushort>(length),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    }, length, dtype);

    /// <summary>Takes one more reference (a view).</summary>
    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
            throw new ObjectDisposedException(nameof(CpuStorage), "cannot make a view of a disposed tensor");
    }

    /// <summary>Drops one reference; the last returns the buffer to the pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        var data = Interlocked.Exchange(ref _data, null);
        if (data is not null) BufferPool.Return(data, DType.ElementSize());
    }

    /// <summary>The whole buffer reinterpreted as elements of <typeparamref name="T"/> (T's size need not match the dtype's).</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        var data = Data;
        long bytes = data.Length * (long)DType.ElementSize();
        ref byte start = ref MemoryMarshal.GetArrayDataReference(data);
        return MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref start), (int)(bytes / Unsafe.SizeOf<T>()));
    }
}
