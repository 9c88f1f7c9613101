using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace MechInterp.Loading.Onnx;

/// <summary>An ONNX TensorProto (an initializer or a Constant's value): name, dims, element type and data, the
/// raw bytes left in the file buffer until asked for.</summary>
internal sealed class OnnxTensor
{
    /// <summary>TensorProto.DataType values this importer reads.</summary>
    public const int Float = 1, Int32 = 6, Int64 = 7, Float16 = 10, Double = 11;

    private readonly ReadOnlyMemory<byte> _raw;
    private readonly float[]? _floats;
    private readonly long[]? _ints;

    private OnnxTensor(string name, long[] dims, int dataType, ReadOnlyMemory<byte> raw, float[]? floats, long[]? ints)
    {
        Name = name;
        Dims = dims;
        DataType = dataType;
        _raw = raw;
        _floats = floats;
        _ints = ints;
    }

    public string Name { get; }
    public long[] Dims { get; }
    public int DataType { get; }
    public long NumElements => Dims.Aggregate(1L, (a, d) => a * d);

    /// <summary>Parses a TensorProto message (fields: dims=1, data_type=2, float_data=4, int32_data=5, int64_data=7,
    /// name=8, raw_data=9, data_location=14).</summary>
    public static OnnxTensor Parse(ProtoReader r, ReadOnlyMemory<byte> file)
    {
        string name = "";
        var dims = new List<long>();
        int dataType = 0;
        var floats = new List<float>();
        var ints = new List<long>();
        ReadOnlyMemory<byte> raw = default;
        bool external = false;
        while (r.TryReadKey(out int field))
        {
            switch (field)
            {
                case 1: r.ReadInt64s(dims); break;
                case 2: dataType = (int)r.ReadVarint(); break;
                case 4: r.ReadFloats(floats); break;
                case 5: case 7: r.ReadInt64s(ints); break;
                case 8: name = r.ReadString(); break;
                case 9: { var span = r.ReadBytes(out int offset); raw = file.Slice(offset, span.Length); break; }
                case 14: external = r.ReadVarint() == 1; break;
                default: r.Skip(); break;
            }
        }
        if (external)
            throw new OnnxFormatException($"ONNX tensor '{name}' stores its data in an external file, which this importer does not read: save the model with all tensors inside the .onnx file");
        return new OnnxTensor(name, [.. dims], dataType, raw, floats.Count > 0 ? [.. floats] : null, ints.Count > 0 ? [.. ints] : null);
    }

    /// <summary>The values as float32 (FLOAT, FLOAT16 and DOUBLE tensors).</summary>
    public float[] ToFloats()
    {
        long n = NumElements;
        if (_floats is not null && DataType == Float) return CheckCount(_floats, n);
        var raw = _raw.Span;
        var result = new float[n];
        switch (DataType)
        {
            case Float when raw.Length == n * 4 && BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(raw).CopyTo(result);
                return result;
            case Float when raw.Length == n * 4:
                for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4));
                return result;
            case Float16 when raw.Length == n * 2:
                for (int i = 0; i < n; i++) result[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(i * 2, 2)));
                return result;
            case Double when raw.Length == n * 8:
                for (int i = 0; i < n; i++) result[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(i * 8, 8));
                return result;
            default:
                throw new OnnxFormatException($"ONNX tensor '{Name}' (data type {DataType}, {raw.Length} raw bytes, dims [{string.Join(", ", Dims)}]) is not a float tensor this importer can read");
        }
    }

    /// <summary>The values as int64 (INT64 and INT32 tensors).</summary>
    public long[] ToInt64s()
    {
        long n = NumElements;
        if (_ints is not null) return CheckCount(_ints, n);
        var raw = _raw.Span;
        var result = new long[n];
        if (DataType == Int64 && raw.Length == n * 8)
            for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice(i * 8, 8));
        else if (DataType == Int32 && raw.Length == n * 4)
            for (int i = 0; i < n; i++) result[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.Slice(i * 4, 4));
        else
            throw new OnnxFormatException($"ONNX tensor '{Name}' (data type {DataType}) is not an integer tensor this importer can read");
        return result;
    }

    /// <summary>A float32 <see cref="MechInterp.Tensor"/> on the CPU with the tensor's dims.</summary>
    public Tensor ToTensor() => Tensor.FromArray(ToFloats(), Dims);

    private T[] CheckCount<T>(T[] values, long n) => values.Length == n ? values
        : throw new OnnxFormatException($"ONNX tensor '{Name}' has {values.Length} values but dims [{string.Join(", ", Dims)}] need {n}");
}
