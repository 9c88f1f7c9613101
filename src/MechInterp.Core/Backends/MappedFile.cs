using System.IO.MemoryMappedFiles;

namespace MechInterp.Backends;

/// <summary>
/// A whole file mapped copy-on-write (<see cref="MemoryMappedFileAccess.CopyOnWrite"/>: MAP_PRIVATE on Unix), shared
/// by the reader that opened it and by every <see cref="Cpu.CpuStorage"/> that points into it. Pages are read from the
/// page cache on first touch and stay shared with it until written; a write (from any tensor) copies the page into
/// private memory, so the file on disk is never modified. Reference-counted: the opener holds the first reference,
/// each mapped storage one more, and the last <see cref="Release"/> unmaps the file and closes it. If references are
/// lost without being released (tensors dropped without Dispose), the finalizer unmaps once nothing can reach the
/// mapping. The file must not be truncated or rewritten in place while mapped (replacing it by rename, as
/// <see cref="SafeTensorsFile"/>'s writer does, is safe: the mapping keeps the old inode).
/// </summary>
internal sealed unsafe class MappedFile
{
    private static long s_live;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private int _refs = 1;
    private int _unmapped;
    private int _written;
    private readonly object _dropLock = new();

    private readonly MappedFile? _twinOf;

    private MappedFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* basePointer, long length, MappedFile? twinOf = null)
    {
        Path = path;
        _map = map;
        _view = view;
        _base = basePointer;
        Length = length;
        _twinOf = twinOf;
        Interlocked.Increment(ref s_live);
    }

    /// <summary>Number of mappings currently open in this process (diagnostics and leak tests).</summary>
    public static long LiveCount => Interlocked.Read(ref s_live);

    /// <summary>The mapped file's path.</summary>
    public string Path { get; }

    /// <summary>Length of the mapping in bytes (the file's length when it was opened).</summary>
    public long Length { get; }

    /// <summary>The first byte of the mapping; the caller must hold a reference.</summary>
    public byte* Pointer => _base != null ? _base : throw new ObjectDisposedException(nameof(MappedFile), $"the mapping of '{Path}' was released");

    /// <summary>Maps all of <paramref name="stream"/> (length <paramref name="length"/> &gt; 0) copy-on-write. Takes
    /// ownership of the stream: it is closed with the mapping, or at once when mapping fails.</summary>
    public static MappedFile Open(FileStream stream, string path, long length)
    {
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.CopyOnWrite);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(path, map, view, p + view.PointerOffset, length);
        }
        catch
        {
            view?.Dispose();
            if (map is not null) map.Dispose();
            else stream.Dispose();
            throw;
        }
    }

    /// <summary>True once any storage in this mapping was written (some pages may hold private copies).</summary>
    public bool HasPrivateWrites => Volatile.Read(ref _written) != 0;

    /// <summary>Records that a storage in this mapping is being written.</summary>
    public void MarkWritten()
    {
        // Under the lock DropCleanPages holds: a write either stops a drop or starts after it has finished.
        lock (_dropLock) Volatile.Write(ref _written, 1);
    }

    /// <summary>Drops the resident pages wholly inside [<paramref name="start"/>, start + <paramref name="bytes"/>) from this
    /// process (MADV_DONTNEED), provided no storage ever wrote into the mapping: they are all clean file pages, which
    /// the next touch reads back from the page cache. Advisory; does nothing off Linux.</summary>
    public void DropCleanPages(byte* start, long bytes)
    {
        if (!OperatingSystem.IsLinux()) return;
        long page = Environment.SystemPageSize;
        long first = ((long)start + page - 1) & ~(page - 1), end = ((long)start + bytes) & ~(page - 1);
        if (end <= first) return;
        lock (_dropLock)
        {
            if (HasPrivateWrites || _base == null) return;
            Cpu.MemoryAdvice.DontNeed((void*)first, (nuint)(end - first));
        }
    }

    /// <summary>A second copy-on-write mapping of the same file (a new MAP_PRIVATE view of the same open file): its pages
    /// start out the same, and a write through either mapping is private to it. How a tied weight (W_U, the transpose
    /// of W_E) gets elements of its own without a copy. The caller owns the first reference; the twin keeps this
    /// mapping's file open until it is released.</summary>
    public MappedFile CreateTwin()
    {
        AddRef();
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.CopyOnWrite);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new MappedFile(Path, _map, view, p + view.PointerOffset, Length, twinOf: this);
        }
        catch
        {
            view?.Dispose();
            Release();
            throw;
        }
    }

    /// <summary>Takes one more reference (a mapped storage).</summary>
    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
            throw new ObjectDisposedException(nameof(MappedFile), $"the mapping of '{Path}' was already released");
    }

    /// <summary>Drops one reference; the last unmaps the file.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) != 0) return;
        Unmap();
        _view.Dispose();
        if (_twinOf is null) _map.Dispose();
        else _twinOf.Release(); // the file stays open for the mapping it was made from
        GC.SuppressFinalize(this);
    }

    private void Unmap()
    {
        if (Interlocked.Exchange(ref _unmapped, 1) != 0) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        Interlocked.Decrement(ref s_live);
    }

    /// <summary>Unmaps a mapping whose references were dropped without <see cref="Release"/> (the view's and the
    /// file's own finalizers close their handles once the pointer reference taken in <see cref="Open"/> is gone).</summary>
    ~MappedFile() => Unmap();
}
