using System.Buffers.Binary;
using System.Text;

namespace MechInterp.Loading.Onnx;

/// <summary>
/// A forward-only reader of the protocol-buffers wire format over one message's bytes: field keys, varints,
/// fixed 32/64-bit values and length-delimited payloads (strings, bytes, nested messages, packed arrays).
/// Only what ONNX's ModelProto needs; unknown fields are skipped.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _pos;

    public ProtoReader(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        _data = data;
        _baseOffset = baseOffset;
        _pos = 0;
    }

    /// <summary>Wire type of the field just read by <see cref="TryReadKey"/>.</summary>
    public int WireType { get; private set; }

    /// <summary>Offset of the reader's position inside the outermost buffer (for error messages and slicing).</summary>
    public int AbsolutePosition => _baseOffset + _pos;

    /// <summary>Reads the next field key; false at the end of the message.</summary>
    public bool TryReadKey(out int field)
    {
        if (_pos >= _data.Length) { field = 0; return false; }
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        WireType = (int)(key & 7);
        if (field <= 0) throw Error($"field number {field} is invalid");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (_pos >= _data.Length) throw Error("a varint runs past the end of the message");
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw Error("a varint is longer than 10 bytes");
    }

    public long ReadInt64() => (long)ReadVarint();

    public float ReadFixed32Float()
    {
        Need(4);
        float v = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    /// <summary>A length-delimited payload and its absolute offset in the outermost buffer.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int absoluteOffset)
    {
        ulong len = ReadVarint();
        if (len > (ulong)(_data.Length - _pos)) throw Error($"a length-delimited field of {len} bytes runs past the end of the message");
        absoluteOffset = _baseOffset + _pos;
        var span = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return span;
    }

    public ReadOnlySpan<byte> ReadBytes() => ReadBytes(out _);

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    /// <summary>A nested message as a reader positioned at its start.</summary>
    public ProtoReader ReadMessage()
    {
        var span = ReadBytes(out int offset);
        return new ProtoReader(span, offset);
    }

    /// <summary>Appends a repeated int64 field, packed (wire type 2) or not.</summary>
    public void ReadInt64s(List<long> into)
    {
        if (WireType == 2)
        {
            var inner = ReadMessage();
            while (inner._pos < inner._data.Length) into.Add(inner.ReadInt64());
        }
        else into.Add(ReadInt64());
    }

    /// <summary>Appends a repeated float field, packed (wire type 2) or not.</summary>
    public void ReadFloats(List<float> into)
    {
        if (WireType == 2)
        {
            var bytes = ReadBytes();
            if (bytes.Length % 4 != 0) throw Error("a packed float array's length is not a multiple of 4");
            for (int i = 0; i < bytes.Length; i += 4) into.Add(BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i, 4)));
        }
        else into.Add(ReadFixed32Float());
    }

    /// <summary>Skips the value of the field just read.</summary>
    public void Skip()
    {
        switch (WireType)
        {
            case 0: ReadVarint(); break;
            case 1: Need(8); _pos += 8; break;
            case 2: ReadBytes(); break;
            case 5: Need(4); _pos += 4; break;
            default: throw Error($"wire type {WireType} (groups) is not supported");
        }
    }

    private void Need(int n)
    {
        if (_data.Length - _pos < n) throw Error($"a {n}-byte value runs past the end of the message");
    }

    private OnnxFormatException Error(string what) => new($"malformed ONNX protobuf at byte {AbsolutePosition}: {what}");
}
