using System.Buffers.Binary;
using MechInterp.Backends;

namespace MechInterp;

/// <summary>
/// A read-only view of a <c>.safetensors</c> file. The file is memory-mapped (copy-on-write, so nothing written to
/// the mapped memory ever reaches the file); opening it parses and validates the header only. Tensors are copied out
/// one at a time by <see cref="Read"/> (or into caller memory by <see cref="ReadFloats"/> / <see cref="ReadBytes"/>),
/// or shared with the file without a copy by <see cref="ReadMapped"/>. Every malformed input raises
/// <see cref="SafeTensorsFormatException"/>. Reading is thread-safe; disposing while reading is not.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>The largest header accepted (100 MB); real headers are kilobytes to a few megabytes.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const int ChunkBytes = 1 << 24;

    private readonly MappedFile? _file;
    private System.Runtime.InteropServices.GCHandle _pin;
    private readonly SafeTensorsHeader _header;
    private byte* _base;

    private SafeTensorsFile(string path)
    {
        Path = path;
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        try
        {
            FileLength = stream.Length;
            if (FileLength < 8)
                throw new SafeTensorsFormatException(path, null, $"the file is {FileLength} bytes long, too short for the 8-byte header length: it is truncated or empty");
        }
        catch
        {
            stream.Dispose();
            throw;
        }
        _file = MappedFile.Open(stream, path, FileLength);
        try
        {
            _base = _file.Pointer;
            _header = ParseHeader(new ReadOnlySpan<byte>(_base, 8), path, FileLength, this);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private SafeTensorsFile(byte[] data, string name)
    {
        Path = name;
        FileLength = data.LongLength;
        if (FileLength < 8)
            throw new SafeTensorsFormatException(name, null, $"the data is {FileLength} bytes long, too short for the 8-byte header length: it is truncated or empty");
        _pin = System.Runtime.InteropServices.GCHandle.Alloc(data, System.Runtime.InteropServices.GCHandleType.Pinned);
        _base = (byte*)_pin.AddrOfPinnedObject();
        try
        {
            _header = ParseHeader(new ReadOnlySpan<byte>(_base, 8), name, FileLength, this);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Reads safetensors data already in memory (for example a downloaded or embedded file). The array is
    /// pinned until <see cref="Dispose"/> and must not be modified meanwhile; <paramref name="name"/> is used in
    /// messages in place of a path.</summary>
    /// <param name="data">The bytes of a whole .safetensors file.</param>
    /// <param name="name">A name for messages (for example the URL or resource the bytes came from).</param>
    public static SafeTensorsFile FromBytes(byte[] data, string name = "<memory>")
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(name);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors files are little-endian; reading them on a big-endian machine is not supported");
        return new SafeTensorsFile(data, name);
    }

    /// <summary>Opens and validates <paramref name="path"/>. Throws <see cref="SafeTensorsFormatException"/>
    /// when the file is malformed and <see cref="FileNotFoundException"/> when it does not exist.</summary>
    /// <param name="path">The .safetensors file.</param>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors files are little-endian; reading them on a big-endian machine is not supported");
        if (!File.Exists(path))
            throw new FileNotFoundException($"safetensors file '{path}' does not exist", path);
        return new SafeTensorsFile(path);
    }

    /// <summary>The file's path, as given to <see cref="Open"/> (or the name given to <see cref="FromBytes"/>).</summary>
    public string Path { get; }

    /// <summary>The file's size in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Length of the JSON header in bytes (the value of the first 8 bytes).</summary>
    public long HeaderLength { get; private set; }

    /// <summary>Offset of the data section (8 + <see cref="HeaderLength"/>).</summary>
    public long DataOffset => 8 + HeaderLength;

    /// <summary>The <c>__metadata__</c> string map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata => _header.Metadata;

    /// <summary>Every tensor name, in ordinal order.</summary>
    public IReadOnlyList<string> Names => _header.Names;

    /// <summary>The entry of every tensor, in name order.</summary>
    public IEnumerable<SafeTensorInfo> Tensors => _header.Names.Select(n => _header.Tensors[n]);

    /// <summary>True when the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _header.Tensors.ContainsKey(name);

    /// <summary>The entry of <paramref name="name"/>, or false when the file has no such tensor.</summary>
    public bool TryGetInfo(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SafeTensorInfo? info) =>
        _header.Tensors.TryGetValue(name, out info);

    /// <summary>The entry (dtype, shape, byte range) of <paramref name="name"/>; throws
    /// <see cref="KeyNotFoundException"/> naming the file when absent.</summary>
    public SafeTensorInfo GetInfo(string name)
    {
        if (_header.Tensors.TryGetValue(name, out var info)) return info;
        var near = _header.Names.Where(n => n.Contains(LastPart(name), StringComparison.Ordinal)).Take(5).ToArray();
        var hint = near.Length > 0 ? $"; similar names: {string.Join(", ", near)}" : "";
        throw new KeyNotFoundException($"tensor '{name}' is not in '{Path}' ({_header.Names.Length} tensors){hint}");
    }

    /// <summary>The dtype <see cref="Read"/> produces when none is asked for: the stored dtype, except that
    /// F16 and BF16 are read as Float32 (the compute type; the upcast is exact).</summary>
    public static DType DefaultReadDType(DType stored) =>
        stored is DType.Float16 or DType.BFloat16 ? DType.Float32 : stored;

    /// <summary>Materialises tensor <paramref name="name"/> as <paramref name="dtype"/> (default:
    /// <see cref="DefaultReadDType"/>) on <paramref name="device"/> (default: <see cref="Device.Cpu"/>).</summary>
    public Tensor Read(string name, DType? dtype = null, Device? device = null)
    {
        var info = GetInfo(name);
        var target = dtype ?? DefaultReadDType(info.DType);
        var data = ReadArray(info, target);
        return Tensor.FromArray(data, info.ShapeArray(), target, device ?? Device.Cpu);
    }

    /// <summary>
    /// Tensor <paramref name="name"/> as <paramref name="dtype"/> (default: <see cref="DefaultReadDType"/>) on the
    /// managed CPU device, sharing the file's memory-mapped pages instead of copying them when it can: the stored dtype
    /// equals <paramref name="dtype"/> (F32 read as Float32, ...), the data is aligned to its element size, holds at
    /// least one element and at most 2 GiB, the dtype is not Bool, and the file was opened with <see cref="Open"/>.
    /// Otherwise (F16/BF16 widened to Float32, misaligned data, <see cref="FromBytes"/>) it returns a copy exactly as
    /// <see cref="Read"/> does; <see cref="IsMapped"/> tells which. A mapped tensor keeps the file mapped until it and
    /// its views are disposed; writing to its memory changes private copy-on-write pages, never the file. The file
    /// must not be truncated or rewritten in place meanwhile (replacing it by a rename is safe).
    /// </summary>
    public Tensor ReadMapped(string name, DType? dtype = null)
    {
        var info = GetInfo(name);
        var target = dtype ?? DefaultReadDType(info.DType);
        return TryMap(info, target) ?? Read(name, target, Device.Cpu);
    }

    /// <summary>True when <paramref name="tensor"/>'s data lies in a memory-mapped file (see <see cref="ReadMapped"/>);
    /// views of a mapped tensor are mapped too.</summary>
    public static bool IsMapped(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return StorageFacts.IsMapped(tensor);
    }

    private Tensor? TryMap(SafeTensorInfo info, DType target)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        int size = info.DType.ElementSize();
        if (_file is null || target != info.DType || info.DType == DType.Bool || info.NumElements == 0
            || info.NumElements > int.MaxValue / size || (nuint)(_base + info.FileOffset) % (nuint)size != 0)
            return null;
        return StorageFacts.MapFile(_file, info.FileOffset, info.NumElements, info.DType, info.ShapeArray());
    }

    /// <summary>The elements of <paramref name="name"/> converted to <typeparamref name="T"/> (float, double,
    /// Half, long, int, byte or bool), row-major.</summary>
    public T[] ReadArray<T>(string name) => (T[])ReadArray(GetInfo(name), Tensor.DTypeOf<T>());

    /// <summary>Converts the elements of <paramref name="name"/> to float32 into <paramref name="destination"/>,
    /// whose length must equal the tensor's element count. Allocates nothing.</summary>
    public void ReadFloats(string name, Span<float> destination)
    {
        var info = GetInfo(name);
        if (destination.Length != info.NumElements)
            throw new ArgumentException($"tensor '{name}' of '{Path}' has {info.NumElements} elements but the destination holds {destination.Length}", nameof(destination));
        int size = info.DType.ElementSize();
        int perChunk = ChunkBytes / size;
        for (long done = 0; done < info.NumElements; done += perChunk)
        {
            int n = (int)Math.Min(perChunk, info.NumElements - done);
            SafeTensorsConvert.ToSingle(Bytes(info.FileOffset + done * size, n * size), info.DType, destination.Slice((int)done, n));
        }
    }

    /// <summary>Copies the stored little-endian bytes of <paramref name="name"/> into <paramref name="destination"/>,
    /// whose length must equal <see cref="SafeTensorInfo.ByteLength"/>.</summary>
    public void ReadBytes(string name, Span<byte> destination)
    {
        var info = GetInfo(name);
        if (destination.Length != info.ByteLength)
            throw new ArgumentException($"tensor '{name}' of '{Path}' has {info.ByteLength} bytes but the destination holds {destination.Length}", nameof(destination));
        for (long done = 0; done < info.ByteLength; done += ChunkBytes)
        {
            int n = (int)Math.Min(ChunkBytes, info.ByteLength - done);
            Bytes(info.FileOffset + done, n).CopyTo(destination.Slice((int)done, n));
        }
    }

    /// <summary>The elements of <paramref name="info"/> converted to <paramref name="target"/>, in the array type
    /// <see cref="Tensor.FromArray(Array, long[], DType, Device)"/> takes.</summary>
    internal Array ReadArray(SafeTensorInfo info, DType target)
    {
        if (info.NumElements > Array.MaxLength)
            throw new NotSupportedException($"tensor '{info.Name}' of '{Path}' has {info.NumElements} elements, more than a .NET array holds ({Array.MaxLength}); read it in parts with ReadBytes");
        var result = SafeTensorsConvert.Allocate(target, (int)info.NumElements);
        int size = info.DType.ElementSize();
        int perChunk = ChunkBytes / size;
        for (long done = 0; done < info.NumElements; done += perChunk)
        {
            int n = (int)Math.Min(perChunk, info.NumElements - done);
            SafeTensorsConvert.Convert(Bytes(info.FileOffset + done * size, n * size), info.DType, result, (int)done);
        }
        return result;
    }

    private ReadOnlySpan<byte> Bytes(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_base == null, this);
        if (offset < 0 || length < 0 || offset > FileLength - length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"byte range [{offset}, {offset + length}) is outside '{Path}' ({FileLength} bytes)");
        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    private static SafeTensorsHeader ParseHeader(ReadOnlySpan<byte> lengthBytes, string path, long fileLength, SafeTensorsFile file)
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (n > (ulong)MaxHeaderBytes)
            throw new SafeTensorsFormatException(path, null, $"the header length field says {n} bytes, more than the {MaxHeaderBytes}-byte limit: the file is not safetensors or is damaged");
        if ((long)n > fileLength - 8)
            throw new SafeTensorsFormatException(path, null, $"the header length field says {n} bytes but only {fileLength - 8} follow it: the file is truncated");
        if (n < 2)
            throw new SafeTensorsFormatException(path, null, $"the header length field says {n} bytes, too short for a JSON object");
        file.HeaderLength = (long)n;
        long headerEnd = 8 + (long)n;
        return SafeTensorsHeader.Parse(file.Bytes(8, (int)n), headerEnd, fileLength - headerEnd, path);
    }

    private static string LastPart(string name)
    {
        int dot = name.LastIndexOf('.');
        return dot >= 0 && dot < name.Length - 1 ? name[(dot + 1)..] : name;
    }

    /// <summary>Releases this reader's hold on the file. Tensors already read stay valid: copies own their data, and
    /// tensors from <see cref="ReadMapped"/> keep the mapping alive until the last of them (and of their views) is
    /// disposed.</summary>
    public void Dispose()
    {
        if (_base == null) return;
        _base = null;
        if (_pin.IsAllocated) _pin.Free();
        _file?.Release();
    }

    /// <inheritdoc />
    public override string ToString() => $"SafeTensorsFile('{Path}', {_header.Names.Length} tensors)";
}
