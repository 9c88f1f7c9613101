namespace MechInterp.Loading.Onnx;

/// <summary>One ONNX NodeProto: operator type, input and output value names, and the attributes the importer reads
/// (ints, floats, int lists and tensors).</summary>
internal sealed class OnnxNode
{
    public required string Name { get; init; }
    public required string OpType { get; init; }
    public required string[] Inputs { get; init; }
    public required string[] Outputs { get; init; }
    public Dictionary<string, long> IntAttributes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, float> FloatAttributes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, long[]> IntListAttributes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, OnnxTensor> TensorAttributes { get; } = new(StringComparer.Ordinal);

    /// <summary>Parses a NodeProto (input=1, output=2, name=3, op_type=4, attribute=5).</summary>
    public static OnnxNode Parse(ProtoReader r, ReadOnlyMemory<byte> file)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", op = "";
        var attributes = new List<(string Name, long? I, float? F, long[]? Ints, OnnxTensor? T)>();
        while (r.TryReadKey(out int field))
        {
            switch (field)
            {
                case 1: inputs.Add(r.ReadString()); break;
                case 2: outputs.Add(r.ReadString()); break;
                case 3: name = r.ReadString(); break;
                case 4: op = r.ReadString(); break;
                case 5: attributes.Add(ParseAttribute(r.ReadMessage(), file)); break;
                default: r.Skip(); break;
            }
        }
        var node = new OnnxNode { Name = name, OpType = op, Inputs = [.. inputs], Outputs = [.. outputs] };
        foreach (var a in attributes)
        {
            if (a.I is { } i) node.IntAttributes[a.Name] = i;
            if (a.F is { } f) node.FloatAttributes[a.Name] = f;
            if (a.Ints is { } ints) node.IntListAttributes[a.Name] = ints;
            if (a.T is { } t) node.TensorAttributes[a.Name] = t;
        }
        return node;
    }

    /// <summary>AttributeProto: name=1, f=2, i=3, t=5, ints=8.</summary>
    private static (string, long?, float?, long[]?, OnnxTensor?) ParseAttribute(ProtoReader r, ReadOnlyMemory<byte> file)
    {
        string name = "";
        long? i = null;
        float? f = null;
        List<long>? ints = null;
        OnnxTensor? t = null;
        while (r.TryReadKey(out int field))
        {
            switch (field)
            {
                case 1: name = r.ReadString(); break;
                case 2: f = r.ReadFixed32Float(); break;
                case 3: i = r.ReadInt64(); break;
                case 5: t = OnnxTensor.Parse(r.ReadMessage(), file); break;
                case 8: r.ReadInt64s(ints ??= []); break;
                default: r.Skip(); break;
            }
        }
        return (name, i, f, ints?.ToArray(), t);
    }

    /// <inheritdoc />
    public override string ToString() => $"{OpType} {Name}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";
}
