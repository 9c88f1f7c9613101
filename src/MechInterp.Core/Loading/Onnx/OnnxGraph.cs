namespace MechInterp.Loading.Onnx;

/// <summary>
/// The computation graph of an ONNX model (ModelProto.graph): nodes in file order (ONNX requires topological
/// order), initializers by name, graph input and output names, and producer/consumer indexes for pattern matching.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly Dictionary<string, OnnxNode> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);

    private OnnxGraph(List<OnnxNode> nodes, Dictionary<string, OnnxTensor> initializers, List<string> inputs, List<string> outputs)
    {
        Nodes = nodes;
        Initializers = initializers;
        Inputs = inputs;
        Outputs = outputs;
        foreach (var n in nodes)
        {
            foreach (var o in n.Outputs) _producers[o] = n;
            foreach (var i in n.Inputs)
            {
                if (i.Length == 0) continue;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = [];
                list.Add(n);
            }
        }
    }

    public IReadOnlyList<OnnxNode> Nodes { get; }
    public IReadOnlyDictionary<string, OnnxTensor> Initializers { get; }
    /// <summary>Graph inputs that are not initializers (e.g. input_ids, attention_mask, token_type_ids).</summary>
    public IReadOnlyList<string> Inputs { get; }
    public IReadOnlyList<string> Outputs { get; }

    /// <summary>Parses a serialized ModelProto (graph = field 7; GraphProto: node=1, initializer=5, input=11, output=12).</summary>
    public static OnnxGraph Parse(ReadOnlyMemory<byte> model)
    {
        var r = new ProtoReader(model.Span);
        bool found = false;
        var nodes = new List<OnnxNode>();
        var initializers = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var inputs = new List<string>();
        var outputs = new List<string>();
        while (r.TryReadKey(out int field))
        {
            if (field != 7 || r.WireType != 2) { r.Skip(); continue; }
            found = true;
            var g = r.ReadMessage();
            while (g.TryReadKey(out int gf))
            {
                switch (gf)
                {
                    case 1: nodes.Add(OnnxNode.Parse(g.ReadMessage(), model)); break;
                    case 5: { var t = OnnxTensor.Parse(g.ReadMessage(), model); initializers[t.Name] = t; break; }
                    case 11: inputs.Add(ValueInfoName(g.ReadMessage())); break;
                    case 12: outputs.Add(ValueInfoName(g.ReadMessage())); break;
                    default: g.Skip(); break;
                }
            }
        }
        if (!found || nodes.Count == 0)
            throw new OnnxFormatException("the data is not an ONNX model (no ModelProto.graph with nodes): pass the bytes of a .onnx file");
        inputs.RemoveAll(initializers.ContainsKey);
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static string ValueInfoName(ProtoReader r)
    {
        while (r.TryReadKey(out int f))
        {
            if (f == 1) return r.ReadString();
            r.Skip();
        }
        return "";
    }

    /// <summary>The node that produces <paramref name="value"/>, or null for graph inputs and initializers.</summary>
    public OnnxNode? Producer(string value) => _producers.GetValueOrDefault(value);

    /// <summary>The nodes that read <paramref name="value"/>, in graph order.</summary>
    public IReadOnlyList<OnnxNode> Consumers(string value) => _consumers.TryGetValue(value, out var l) ? l : [];

    /// <summary>The initializer called <paramref name="name"/>, or the value of the Constant node producing it.</summary>
    public OnnxTensor? Constant(string name)
    {
        if (Initializers.TryGetValue(name, out var t)) return t;
        return Producer(name) is { OpType: "Constant" } c && c.TensorAttributes.TryGetValue("value", out var v) ? v : null;
    }
}
