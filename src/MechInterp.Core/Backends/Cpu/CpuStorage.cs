using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MechInterp.Backends.Cpu;

/// <summary>
/// Reference-counted typed buffer shared by a tensor and its views, of one of two kinds. Pooled: a managed array
/// from <see cref="BufferPool"/>, possibly longer than <see cref="Length"/>; the last <see cref="Release"/> returns
/// it. Mapped: <see cref="Length"/> elements inside a copy-on-write <see cref="MappedFile"/> (weights read without a
/// copy); the storage holds a reference on the mapping and the last <see cref="Release"/> drops it. Kernels see
/// both kinds the same way, through <see cref="Span{T}"/>.
/// </summary>
internal sealed unsafe class CpuStorage
{
    private Array? _data;
    private MappedFile? _file;
    private readonly byte* _mapped;
    private int _refs = 1;
    private int _version;
    private PackedWeightCache? _packs;

    private CpuStorage(Array data, long length, DType dtype)
    {
        _data = data;
        Length = length;
        DType = dtype;
    }

    private CpuStorage(MappedFile file, byte* start, long length, DType dtype)
    {
        _file = file;
        _mapped = start;
        Length = length;
        DType = dtype;
        IsMapped = true;
    }

    /// <summary>Logical number of elements.</summary>
    public long Length { get; }

    /// <summary>Handles (a tensor and its views) holding this storage; 0 once released.</summary>
    public int RefCount => Volatile.Read(ref _refs);

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>True for storage inside a memory-mapped file (no managed array behind it).</summary>
    public bool IsMapped { get; }

    /// <summary>Bumped by every write into existing elements (<see cref="MarkWritten"/>); cached derived layouts are only
    /// valid for the version they were made from.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>Set for the storage of a model's weights (<see cref="Parameter"/> values): its matrices may be kept in
    /// GEMM panel layout (<see cref="Packs"/>) while unchanged.</summary>
    public bool IsWeight { get; private set; }

    /// <summary>The panel layouts made of this storage's matrices; null unless <see cref="IsWeight"/>.</summary>
    public PackedWeightCache? Packs => Volatile.Read(ref _packs);

    /// <summary>Marks this storage as holding weights (see <see cref="IsWeight"/>).</summary>
    public void MarkWeight()
    {
        if (IsWeight) return;
        Interlocked.CompareExchange(ref _packs, new PackedWeightCache(), null);
        IsWeight = true;
    }

    /// <summary>Records a write into existing elements: bumps <see cref="Version"/> and drops the packs made before it.
    /// Every kernel that mutates an input (the backend's InPlace members) calls this before writing.</summary>
    public void MarkWritten()
    {
        Interlocked.Increment(ref _version);
        Volatile.Read(ref _packs)?.Clear();
        if (IsMapped) Volatile.Read(ref _file)?.MarkWritten();
    }

    /// <summary>True when a pack of this storage's matrices would replace its resident memory rather than add to it: a
    /// memory-mapped storage whose mapping no storage has written (<see cref="ReleaseMappedPages"/> can drop it).</summary>
    public bool PagesDroppable => IsMapped && OperatingSystem.IsLinux() && Volatile.Read(ref _file) is { HasPrivateWrites: false };

    /// <summary>Lets the kernel drop this mapped storage's resident pages (they are read back from the file on the next
    /// touch): only while no storage has written into the mapping, so no private copy-on-write page can be lost.
    /// Used once a packed copy serves the products. No effect for pooled storage or off Linux.</summary>
    public void ReleaseMappedPages()
    {
        if (!IsMapped || Volatile.Read(ref _file) is not { } file) return;
        file.DropCleanPages(_mapped, Length * DType.ElementSize());
    }

    /// <summary>The backing array (float[], double[], long[], int[], byte[], bool[], Half[] or ushort[]) of pooled storage.</summary>
    public Array Data => _data ?? throw (IsMapped && _file is not null
        ? new InvalidOperationException("this storage lies in a memory-mapped file and has no managed array: use Span<T>()")
        : Released());

    private static ObjectDisposedException Released() =>
        new(nameof(CpuStorage), "the tensor's storage was released: the tensor (and every view of it) was disposed");

    /// <summary>Storage for <paramref name="length"/> elements of <paramref name="dtype"/> that lie in
    /// <paramref name="file"/> from byte <paramref name="byteOffset"/> on, without a copy. The elements must be
    /// aligned to their size and lie inside the mapping; takes a reference on <paramref name="file"/>.</summary>
    public static CpuStorage Map(MappedFile file, long byteOffset, long length, DType dtype)
    {
        int size = dtype.ElementSize();
        if (length <= 0 || length > int.MaxValue / size)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"a mapped storage holds 1 to {int.MaxValue / size} {dtype} elements (2 GiB); copy empty or larger tensors");
        if (byteOffset < 0 || byteOffset > file.Length - length * size)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), byteOffset, $"bytes [{byteOffset}, {byteOffset + length * size}) are outside '{file.Path}' ({file.Length} bytes)");
        byte* start = file.Pointer + byteOffset;
        if ((nuint)start % (nuint)size != 0)
            throw new ArgumentException($"the {dtype} data at byte {byteOffset} of '{file.Path}' is not {size}-byte aligned: copy it instead of mapping it", nameof(byteOffset));
        file.AddRef();
        return new CpuStorage(file, start, length, dtype);
    }

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

    /// <summary>For mapped storage: the same elements in a second copy-on-write mapping of the file
    /// (<see cref="MappedFile.CreateTwin"/>), so that writes to either storage stay private to it, without copying
    /// anything now. Null for pooled storage (copy it instead).</summary>
    public CpuStorage? MapTwin()
    {
        if (!IsMapped || Volatile.Read(ref _file) is not { } file) return null;
        var twin = file.CreateTwin();
        try
        {
            return Map(twin, _mapped - file.Pointer, Length, DType);
        }
        finally
        {
            twin.Release(); // the storage holds its own reference
        }
    }

    /// <summary>Takes one more reference (a view).</summary>
    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
            throw new ObjectDisposedException(nameof(CpuStorage), "cannot make a view of a disposed tensor");
    }

    /// <summary>Drops one reference; the last returns the buffer to the pool (pooled) or releases the mapping (mapped).</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        Volatile.Read(ref _packs)?.Clear();
        if (IsMapped)
        {
            Interlocked.Exchange(ref _file, null)?.Release();
            return;
        }
        var data = Interlocked.Exchange(ref _data, null);
        if (data is not null) BufferPool.Return(data, DType.ElementSize());
    }

    /// <summary>The whole buffer reinterpreted as elements of <typeparamref name="T"/> (T's size need not match the dtype's).
    /// Writes through the span of mapped storage change private copy-on-write pages, never the file.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        if (IsMapped)
        {
            if (Volatile.Read(ref _file) is null) throw Released();
            return new Span<T>(_mapped, checked((int)(Length * DType.ElementSize() / sizeof(T))));
        }
        var data = _data ?? throw Released();
        long bytes = data.Length * (long)DType.ElementSize();
        ref byte start = ref MemoryMarshal.GetArrayDataReference(data);
        return MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref start), (int)(bytes / Unsafe.SizeOf<T>()));
    }
}
