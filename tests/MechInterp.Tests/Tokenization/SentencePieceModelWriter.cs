using Google.Protobuf;

namespace MechInterp.Tests.Tokenization;

/// <summary>
/// Writes a minimal SentencePiece <c>ModelProto</c> (sentencepiece_model.proto: pieces = 1 {piece = 1, score = 2,
/// type = 3}, trainer_spec = 2 {model_type = 3, vocab_size = 4, byte_fallback = 35, unk/bos/eos/pad_id = 40..43},
/// normalizer_spec = 3 {name = 1, add_dummy_prefix = 3, remove_extra_whitespaces = 4, escape_whitespaces = 5}).
/// </summary>
internal static class SentencePieceModelWriter
{
    public const int Normal = 1;
    public const int Unknown = 2;
    public const int Control = 3;

    public static byte[] Bpe(IReadOnlyList<(string Piece, float Score, int Type)> pieces)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        foreach (var (piece, score, type) in pieces)
        {
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(Message(o =>
            {
                o.WriteTag(1, WireFormat.WireType.LengthDelimited);
                o.WriteString(piece);
                o.WriteTag(2, WireFormat.WireType.Fixed32);
                o.WriteFloat(score);
                o.WriteTag(3, WireFormat.WireType.Varint);
                o.WriteEnum(type);
            }));
        }

        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(Message(o =>
        {
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteEnum(2); // BPE
            o.WriteTag(4, WireFormat.WireType.Varint);
            o.WriteInt32(pieces.Count);
            o.WriteTag(35, WireFormat.WireType.Varint);
            o.WriteBool(false);
            foreach (var (field, id) in new[] { (40, 0), (41, 1), (42, 2), (43, -1) })
            {
                o.WriteTag(field, WireFormat.WireType.Varint);
                o.WriteInt32(id);
            }
        }));

        output.WriteTag(3, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteString("identity");
            o.WriteTag(3, WireFormat.WireType.Varint);
            o.WriteBool(true);
            o.WriteTag(4, WireFormat.WireType.Varint);
            o.WriteBool(false);
            o.WriteTag(5, WireFormat.WireType.Varint);
            o.WriteBool(true);
        }));

        output.Flush();
        return buffer.ToArray();
    }

    private static ByteString Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        write(output);
        output.Flush();
        return ByteString.CopyFrom(buffer.ToArray());
    }
}
