using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace MechInterp;

/// <summary>
/// Writes <c>.safetensors</c> files: header <c>{"__metadata__": {...}, name: {dtype, shape, data_offsets}}</c>
/// padded with spaces to a multiple of 8 bytes, tensors in ordinal name order with no gaps. Writing is atomic:
/// the file is written to a temporary file in the same directory, flushed to disk and then renamed over the
/// target, so a crash or an error never leaves a half-written or corrupted file at <c>path</c>.
/// </summary>
public static class SafeTensorsWriter
{
    private const int ChunkBytes = 1 << 22;

    /// <summary>Writes <paramref name="tensors"/> (in their own dtypes) and optional <paramref name="metadata"/>
    /// to <paramref name="path"/>, replacing any existing file atomically.</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">Tensors by name; any device (they are copied to the host).</param>
    /// <param name="metadata">String metadata stored under <c>__metadata__</c> (for example <c>format: pt</c>).</param>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, tensors.Select(kv => SafeTensorsEntry.FromTensor(kv.Key, kv.Value)).ToList(), metadata);
    }

    /// <summary>Writes raw entries (the tensor-free core of <see cref="Write(string, IReadOnlyDictionary{string, Tensor}, IReadOnlyDictionary{string, string}?)"/>).</summary>
    internal static void Write(string path, IReadOnlyList<SafeTensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var sorted = entries.OrderBy(e => e.Name, StringComparer.Ordinal).ToArray();
        for (int i = 0; i < sorted.Length; i++)
        {
            sorted[i].Validate();
            if (i > 0 && sorted[i].Name == sorted[i - 1].Name)
                throw new ArgumentException($"tensor name '{sorted[i].Name}' appears twice; safetensors names must be unique");
        }
        var header = BuildHeader(sorted, metadata);

        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"cannot write '{path}': directory '{dir}' does not exist; create it first");
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                stream.Write(length);
                stream.Write(header);
                foreach (var e in sorted) WriteData(stream, e.Data);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>The header bytes (JSON padded with spaces so that 8 + length is a multiple of 8).</summary>
    internal static byte[] BuildHeader(IReadOnlyList<SafeTensorsEntry> sorted, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var kv in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    json.WriteString(kv.Key, kv.Value ?? throw new ArgumentException($"metadata value of '{kv.Key}' is null; safetensors metadata values are strings"));
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var e in sorted)
            {
                long bytes = checked(e.Data.LongLength * e.DType.ElementSize());
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", SafeTensorsDTypes.ToName(e.DType));
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(checked(offset + bytes));
                json.WriteEndArray();
                json.WriteEndObject();
                offset = checked(offset + bytes);
            }
            json.WriteEndObject();
        }
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        var header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static void WriteData(Stream stream, Array data)
    {
        switch (data)
        {
            case float[] a: WriteSpan(stream, a); break;
            case double[] a: WriteSpan(stream, a); break;
            case Half[] a: WriteSpan(stream, a); break;
            case ushort[] a: WriteSpan(stream, a); break;
            case long[] a: WriteSpan(stream, a); break;
            case int[] a: WriteSpan(stream, a); break;
            case byte[] a: WriteSpan(stream, a); break;
            case bool[] a:
                foreach (var chunk in a.Chunk(ChunkBytes))
                    stream.Write(chunk.Select(b => b ? (byte)1 : (byte)0).ToArray());
                break;
            default: throw new ArgumentException($"unsupported data array {data.GetType().Name}", nameof(data));
        }
    }

    private static void WriteSpan<T>(Stream stream, T[] data) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("safetensors files are little-endian; writing them on a big-endian machine is not supported");
        int perChunk = ChunkBytes / Unsafe.SizeOf<T>();
        for (int i = 0; i < data.Length; i += perChunk)
            stream.Write(MemoryMarshal.AsBytes(data.AsSpan(i, Math.Min(perChunk, data.Length - i))));
    }
}
