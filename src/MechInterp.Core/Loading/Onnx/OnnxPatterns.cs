namespace MechInterp.Loading.Onnx;

/// <summary>
/// Graph patterns of exported transformer encoders, matched structurally (never by initializer name, since
/// exporters rename and transpose weights): Linear layers (MatMul by a 2-D initializer plus an optional bias Add),
/// LayerNorms (a LayerNormalization node or the ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add decomposition),
/// and forward traces through shape-only and scalar ops.
/// </summary>
internal sealed class OnnxPatterns(OnnxGraph graph)
{
    /// <summary>A Linear layer: W [in, out] as MatMul stores it, optional bias [out], and the value after the bias.</summary>
    public sealed record LinearMatch(OnnxTensor Weight, OnnxTensor? Bias, string Output, OnnxNode MatMul);

    /// <summary>A LayerNorm: gamma, beta, epsilon and its output value.</summary>
    public sealed record LayerNormMatch(OnnxTensor Gamma, OnnxTensor Beta, double Eps, string Output);

    public OnnxGraph Graph => graph;

    private bool IsWeight(string name, int rank) => graph.Initializers.TryGetValue(name, out var t) && t.Dims.Length == rank && t.DataType is OnnxTensor.Float or OnnxTensor.Float16;

    /// <summary>The Linear layers reading <paramref name="value"/> (MatMul with a 2-D initializer weight), in graph order.</summary>
    public List<LinearMatch> LinearsReading(string value) =>
        graph.Consumers(value).Where(n => n.OpType == "MatMul" && n.Inputs[0] == value && IsWeight(n.Inputs[1], 2)).Select(Linear).ToList();

    public LinearMatch Linear(OnnxNode matMul)
    {
        var weight = graph.Initializers[matMul.Inputs[1]];
        string output = matMul.Outputs[0];
        OnnxTensor? bias = null;
        var add = graph.Consumers(output).FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Any(i => IsWeight(i, 1)));
        if (add is not null)
        {
            bias = graph.Initializers[add.Inputs.First(i => i != output)];
            if (bias.Dims[0] != weight.Dims[1])
                throw new OnnxFormatException($"ONNX node '{add.Name}' adds a bias of {bias.Dims[0]} values to MatMul '{matMul.Name}' with {weight.Dims[1]} outputs: the graph is not a Linear layer this importer recognises");
            output = add.Outputs[0];
        }
        return new LinearMatch(weight, bias, output, matMul);
    }

    /// <summary>The LayerNorm applied to <paramref name="value"/>.</summary>
    public LayerNormMatch LayerNormOf(string value)
    {
        var consumers = graph.Consumers(value);
        if (consumers.FirstOrDefault(n => n.OpType == "LayerNormalization") is { } ln)
        {
            double eps = ln.FloatAttributes.TryGetValue("epsilon", out var e) ? e : 1e-5;
            if (ln.Inputs.Length < 3 || ln.Inputs[2].Length == 0)
                throw new OnnxFormatException($"ONNX LayerNormalization '{ln.Name}' has no bias input; BERT's LayerNorms have one");
            return new LayerNormMatch(Initializer(ln.Inputs[1], ln), Initializer(ln.Inputs[2], ln), eps, ln.Outputs[0]);
        }
        var sub = consumers.FirstOrDefault(n => n.OpType == "Sub" && n.Inputs[0] == value && graph.Producer(n.Inputs[1]) is { OpType: "ReduceMean" })
            ?? throw NotFound("a LayerNorm (LayerNormalization, or ReduceMean → Sub → ... → Div → Mul → Add)", value);
        string centered = sub.Outputs[0];
        var div = One(centered, "Div");
        var sqrt = graph.Producer(div.Inputs[1]) is { OpType: "Sqrt" } s ? s : throw NotFound("the Sqrt of the variance", centered);
        var addEps = graph.Producer(sqrt.Inputs[0]) is { OpType: "Add" } a ? a : throw NotFound("the epsilon Add", centered);
        var epsTensor = addEps.Inputs.Select(graph.Constant).FirstOrDefault(t => t is not null) ?? throw NotFound("the epsilon constant", centered);
        var mul = One(div.Outputs[0], "Mul");
        var gamma = Initializer(mul.Inputs.First(i => i != div.Outputs[0]), mul);
        var add = One(mul.Outputs[0], "Add");
        var beta = Initializer(add.Inputs.First(i => i != mul.Outputs[0]), add);
        return new LayerNormMatch(gamma, beta, epsTensor.ToFloats()[0], add.Outputs[0]);
    }

    /// <summary>
    /// Follows <paramref name="value"/> forward through reshapes, transposes and multiplications/divisions by scalar
    /// constants to the first MatMul of two computed operands; returns it, which operand the value became, and the
    /// product of the scalar factors met on the way.
    /// </summary>
    public (OnnxNode MatMul, int Operand, double Scale) TraceToActivationMatMul(string value)
    {
        double scale = 1;
        string current = value;
        for (int guard = 0; guard < 32; guard++)
        {
            var next = graph.Consumers(current).Where(n => n.OpType != "Shape").ToList();
            if (next.Count != 1) break;
            var n = next[0];
            switch (n.OpType)
            {
                case "MatMul" when !graph.Initializers.ContainsKey(n.Inputs[1]):
                    return (n, Array.IndexOf(n.Inputs, current), scale);
                case "Reshape" or "Transpose" or "Squeeze" or "Unsqueeze" or "Identity" or "Cast":
                    break;
                case "Mul" or "Div" when n.Inputs.FirstOrDefault(i => i != current) is { } other && graph.Constant(other) is { NumElements: 1 } c:
                    double f = c.ToFloats()[0];
                    scale = n.OpType == "Mul" ? scale * f : scale / f;
                    break;
                default:
                    throw NotFound($"a MatMul of activations (met {n.OpType} '{n.Name}' on the way)", value);
            }
            current = n.Outputs[0];
        }
        throw NotFound("a single path to an attention MatMul", value);
    }

    /// <summary>Follows <paramref name="value"/> forward (all branches) to the first Linear layer; returns it with the
    /// operator types met on the way (to recognise the activation function).</summary>
    public (LinearMatch Linear, HashSet<string> OpsOnTheWay) TraceToLinear(string value)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { value };
        var ops = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>([value]);
        while (queue.Count > 0)
        {
            foreach (var n in graph.Consumers(queue.Dequeue()))
            {
                if (n.OpType == "MatMul" && IsWeight(n.Inputs[1], 2)) return (Linear(n), ops);
                if (n.OpType == "Shape") continue;
                ops.Add(n.OpType);
                foreach (var o in n.Outputs) if (seen.Add(o)) queue.Enqueue(o);
            }
            if (seen.Count > 64) break;
        }
        throw NotFound("a Linear layer (MatMul by an initializer)", value);
    }

    /// <summary>The consumer of <paramref name="value"/> that adds it to <paramref name="other"/> (a residual add).</summary>
    public string ResidualAdd(string value, string other) =>
        graph.Consumers(value).FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Contains(other))?.Outputs[0]
            ?? throw NotFound($"the residual Add with '{other}'", value);

    /// <summary>The integer constants among <paramref name="name"/> (a constant, or a Concat of constants and computed pieces).</summary>
    public List<long> ShapeConstants(string name)
    {
        if (graph.Constant(name) is { } c) return [.. c.ToInt64s()];
        var result = new List<long>();
        if (graph.Producer(name) is { OpType: "Concat" } concat)
            foreach (var i in concat.Inputs)
                if (graph.Constant(i) is { } piece) result.AddRange(piece.ToInt64s());
        return result;
    }

    private OnnxNode One(string value, string op) =>
        graph.Consumers(value).FirstOrDefault(n => n.OpType == op) ?? throw NotFound($"a {op} node", value);

    private OnnxTensor Initializer(string name, OnnxNode user) => graph.Initializers.TryGetValue(name, out var t) ? t
        : throw new OnnxFormatException($"ONNX node '{user.Name}' ({user.OpType}) should read a weight initializer but reads computed value '{name}'");

    private static OnnxFormatException NotFound(string what, string value) =>
        new($"the ONNX graph has no {what} after value '{value}': it is not a BERT-style encoder export this importer recognises (export the Hugging Face model with torch.onnx or optimum without graph fusions)");
}
