using System.Text.Json;

namespace MechInterp;

/// <summary>
/// Parser and validator of a safetensors JSON header. Works on the raw header bytes (no tensors involved), so
/// every check is testable on its own. Every problem raises <see cref="SafeTensorsFormatException"/>.
/// </summary>
internal sealed class SafeTensorsHeader
{
    private const int MaxRank = 64;

    private SafeTensorsHeader(Dictionary<string, SafeTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
        Names = tensors.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The tensor entries by name.</summary>
    public Dictionary<string, SafeTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when absent).</summary>
    public Dictionary<string, string> Metadata { get; }

    /// <summary>Tensor names in ordinal order.</summary>
    public string[] Names { get; }

    /// <summary>Parses <paramref name="json"/> (the header bytes after the 8-byte length) and checks every entry
    /// against the data section, which starts at file offset <paramref name="headerEnd"/> and holds
    /// <paramref name="dataLength"/> bytes.</summary>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long headerEnd, long dataLength, string file)
    {
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions
            {
                CommentHandling = JsonCommentHandling.Disallow,
                AllowTrailingCommas = false,
                MaxDepth = 8,
            });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Fail(file, null, "the header is not a JSON object");
            bool seenMetadata = false;
            while (true)
            {
                Next(ref reader, file, null);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                var name = reader.GetString()!;
                current = name;
                if (name == "__metadata__")
                {
                    if (seenMetadata) throw Fail(file, null, "the header has two '__metadata__' entries");
                    seenMetadata = true;
                    current = null;
                    ReadMetadata(ref reader, metadata, file);
                    continue;
                }
                if (tensors.ContainsKey(name)) throw Fail(file, name, "the name appears twice in the header");
                tensors.Add(name, ReadEntry(ref reader, name, headerEnd, dataLength, file));
                current = null;
            }
            if (reader.Read())
                throw Fail(file, null, $"unexpected {reader.TokenType} after the header's JSON object");
        }
        catch (JsonException e)
        {
            throw Fail(file, current, $"the header is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            throw Fail(file, current, $"the header holds a string that is not valid UTF-8 or a value of the wrong JSON type ({e.Message})", e);
        }
        catch (OverflowException e)
        {
            throw Fail(file, current, "a size or offset in the header overflows 64-bit arithmetic", e);
        }
        CheckOverlaps(tensors, file);
        return new SafeTensorsHeader(tensors, metadata);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string file)
    {
        Next(ref reader, file, null);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(file, null, $"'__metadata__' must be an object of strings, found {reader.TokenType}");
        while (true)
        {
            Next(ref reader, file, null);
            if (reader.TokenType == JsonTokenType.EndObject) return;
            var key = reader.GetString()!;
            Next(ref reader, file, null);
            if (reader.TokenType != JsonTokenType.String)
                throw Fail(file, null, $"'__metadata__' value of '{SafeTensorsFormatException.Printable(key)}' must be a string, found {reader.TokenType}");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw Fail(file, null, $"'__metadata__' has the key '{SafeTensorsFormatException.Printable(key)}' twice");
        }
    }

    private static SafeTensorInfo ReadEntry(ref Utf8JsonReader reader, string name, long headerEnd, long dataLength, string file)
    {
        Next(ref reader, file, name);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw Fail(file, name, $"the entry must be an object {{dtype, shape, data_offsets}}, found {reader.TokenType}");
        DType? dtype = null;
        long[]? shape = null;
        long begin = -1, end = -1;
        bool haveOffsets = false;
        while (true)
        {
            Next(ref reader, file, name);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            if (reader.ValueTextEquals("dtype"u8))
            {
                if (dtype is not null) throw Fail(file, name, "'dtype' appears twice");
                Next(ref reader, file, name);
                dtype = ReadDType(ref reader, name, file);
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null) throw Fail(file, name, "'shape' appears twice");
                shape = ReadShape(ref reader, name, file);
            }
            else if (reader.ValueTextEquals("data_offsets"u8))
            {
                if (haveOffsets) throw Fail(file, name, "'data_offsets' appears twice");
                (begin, end) = ReadOffsets(ref reader, name, file);
                haveOffsets = true;
            }
            else
            {
                Next(ref reader, file, name);
                reader.Skip(); // unknown fields are ignored, as the reference implementation does
            }
        }
        if (dtype is null) throw Fail(file, name, "the entry has no 'dtype'");
        if (shape is null) throw Fail(file, name, "the entry has no 'shape'");
        if (!haveOffsets) throw Fail(file, name, "the entry has no 'data_offsets'");

        if (end < begin) throw Fail(file, name, $"data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw Fail(file, name, $"data_offsets [{begin}, {end}] reach past the end of the data section ({dataLength} bytes): the file is truncated or the offsets are wrong");
        long numElements = 1;
        foreach (var d in shape) numElements = checked(numElements * d);
        long expected = checked(numElements * dtype.Value.ElementSize());
        if (end - begin != expected)
            throw Fail(file, name, $"data_offsets [{begin}, {end}] hold {end - begin} bytes but {SafeTensorsDTypes.ToName(dtype.Value)} {Tensor.ShapeString(shape)} needs {expected}");
        return new SafeTensorInfo(name, dtype.Value, shape, numElements, begin, end, headerEnd);
    }

    private static DType ReadDType(ref Utf8JsonReader reader, string name, string file)
    {
        if (reader.TokenType != JsonTokenType.String)
            throw Fail(file, name, $"'dtype' must be a string, found {reader.TokenType}");
        if (!reader.ValueIsEscaped && SafeTensorsDTypes.TryParse(reader.ValueSpan, out var dtype)) return dtype;
        var text = reader.GetString()!;
        var problem = SafeTensorsDTypes.IsKnownUnsupported(text)
            ? $"dtype '{text}' is not supported by MechInterp (supported: {SafeTensorsDTypes.SupportedList}); convert the tensor to one of those"
            : $"unknown dtype '{SafeTensorsFormatException.Printable(text)}' (supported: {SafeTensorsDTypes.SupportedList})";
        throw Fail(file, name, problem);
    }

    private static long[] ReadShape(ref Utf8JsonReader reader, string name, string file)
    {
        Next(ref reader, file, name);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(file, name, $"'shape' must be an array of integers, found {reader.TokenType}");
        Span<long> dims = stackalloc long[MaxRank];
        int rank = 0;
        while (true)
        {
            Next(ref reader, file, name);
            if (reader.TokenType == JsonTokenType.EndArray) break;
            if (rank == MaxRank) throw Fail(file, name, $"'shape' has more than {MaxRank} dimensions");
            var d = ReadNonNegative(ref reader, name, "'shape'", file);
            dims[rank++] = d;
        }
        return dims[..rank].ToArray();
    }

    private static (long Begin, long End) ReadOffsets(ref Utf8JsonReader reader, string name, string file)
    {
        Next(ref reader, file, name);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw Fail(file, name, $"'data_offsets' must be an array [begin, end], found {reader.TokenType}");
        Next(ref reader, file, name);
        if (reader.TokenType == JsonTokenType.EndArray) throw Fail(file, name, "'data_offsets' is empty; it must be [begin, end]");
        long begin = ReadNonNegative(ref reader, name, "'data_offsets'", file);
        Next(ref reader, file, name);
        if (reader.TokenType == JsonTokenType.EndArray) throw Fail(file, name, "'data_offsets' has one number; it must be [begin, end]");
        long end = ReadNonNegative(ref reader, name, "'data_offsets'", file);
        Next(ref reader, file, name);
        if (reader.TokenType != JsonTokenType.EndArray) throw Fail(file, name, "'data_offsets' has more than two numbers; it must be [begin, end]");
        return (begin, end);
    }

    private static long ReadNonNegative(ref Utf8JsonReader reader, string name, string what, string file)
    {
        if (reader.TokenType != JsonTokenType.Number)
            throw Fail(file, name, $"{what} must hold integers, found {reader.TokenType}");
        if (!reader.TryGetInt64(out var value))
            throw Fail(file, name, $"{what} holds '{SafeTensorsFormatException.Printable(System.Text.Encoding.UTF8.GetString(reader.ValueSpan))}', which is not a 64-bit integer");
        if (value < 0) throw Fail(file, name, $"{what} holds the negative number {value}");
        return value;
    }

    private static void CheckOverlaps(Dictionary<string, SafeTensorInfo> tensors, string file)
    {
        var ranges = tensors.Values.Where(t => t.ByteLength > 0)
            .OrderBy(t => t.DataStart).ThenBy(t => t.Name, StringComparer.Ordinal).ToArray();
        for (int i = 1; i < ranges.Length; i++)
            if (ranges[i].DataStart < ranges[i - 1].DataEnd)
                throw Fail(file, ranges[i].Name,
                    $"its bytes [{ranges[i].DataStart}, {ranges[i].DataEnd}) overlap those of '{SafeTensorsFormatException.Printable(ranges[i - 1].Name)}' [{ranges[i - 1].DataStart}, {ranges[i - 1].DataEnd})");
    }

    private static void Next(ref Utf8JsonReader reader, string file, string? name)
    {
        if (!reader.Read()) throw Fail(file, name, "the header's JSON ends early");
    }

    private static SafeTensorsFormatException Fail(string file, string? name, string problem, Exception? inner = null) =>
        new(file, name, problem, inner);
}
