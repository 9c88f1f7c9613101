namespace MechInterp.Loading.Onnx;

/// <summary>
/// Rebuilds a BERT encoder (<see cref="HookedEncoder"/> without MLM head) from an exported ONNX graph. Exporters
/// rename the Linear weights (to bare numbers) and store them transposed ([in, out]), so every role is recovered
/// from the graph: the three Gathers of the embedding tables (by which graph input indexes them), the embedding
/// LayerNorm, then per layer the three Linears reading the block input (query = left operand of the score MatMul,
/// key = right operand, value = right operand of the pattern MatMul), the output projection after the pattern
/// MatMul, the residual Adds, the two LayerNorms and the MLP with its activation.
/// </summary>
internal static class OnnxBertImporter
{
    public sealed record Result(HookedTransformerConfig Config, int NTokenTypes, List<(string Name, Tensor Value)> Weights);

    public static Result Import(OnnxGraph graph, int? nHeadsOverride = null)
    {
        var m = new OnnxPatterns(graph);
        var weights = new List<(string, Tensor)>();
        var (word, pos, type, embedSum) = Embeddings(graph);
        int dModel = (int)word.Dims[1];
        weights.Add(("embed.embed.W_E", word.ToTensor()));
        weights.Add(("embed.pos_embed.W_pos", pos.ToTensor()));
        weights.Add(("embed.token_type_embed.W_token_type", type.ToTensor()));
        var ln = m.LayerNormOf(embedSum);
        double eps = ln.Eps;
        AddNorm(weights, "embed.ln", ln);

        string resid = ln.Output;
        int layers = 0, nHeads = 0, dHead = 0, dMlp = 0;
        double attnScale = 0;
        string? actFn = null;
        for (; ; layers++)
        {
            var linears = m.LinearsReading(resid);
            if (linears.Count == 0) break;
            if (linears.Count != 3)
                throw new OnnxFormatException($"ONNX block {layers}: {linears.Count} Linear layers read the residual stream '{resid}', expected 3 (query, key, value)");
            var traced = linears.Select(l => (Linear: l, Trace: m.TraceToActivationMatMul(l.Output))).ToList();
            var scores = traced.GroupBy(t => t.Trace.MatMul).FirstOrDefault(g => g.Count() == 2)
                ?? throw new OnnxFormatException($"ONNX block {layers}: no MatMul combines two of the projections of '{resid}' into attention scores");
            var q = scores.First(t => t.Trace.Operand == 0);
            var k = scores.First(t => t.Trace.Operand == 1);
            var v = traced.Single(t => t.Trace.MatMul != scores.Key);
            if (v.Trace.Operand != 1)
                throw new OnnxFormatException($"ONNX block {layers}: the value projection enters MatMul '{v.Trace.MatMul.Name}' as operand {v.Trace.Operand}, expected the right operand (pattern @ V)");

            if (layers == 0)
            {
                (nHeads, dHead) = HeadShape(m, q.Linear, dModel, nHeadsOverride);
                attnScale = ScoreScale(m, scores.Key, q.Trace.Scale * k.Trace.Scale);
            }
            string b = $"blocks.{layers}.";
            weights.Add((b + "attn.W_Q", PerHead(q.Linear.Weight, nHeads, dHead)));
            weights.Add((b + "attn.W_K", PerHead(k.Linear.Weight, nHeads, dHead)));
            weights.Add((b + "attn.W_V", PerHead(v.Linear.Weight, nHeads, dHead)));
            weights.Add((b + "attn.b_Q", Bias(q.Linear).Reshape(nHeads, dHead)));
            weights.Add((b + "attn.b_K", Bias(k.Linear).Reshape(nHeads, dHead)));
            weights.Add((b + "attn.b_V", Bias(v.Linear).Reshape(nHeads, dHead)));

            var (outProj, _) = m.TraceToLinear(v.Trace.MatMul.Outputs[0]);
            weights.Add((b + "attn.W_O", outProj.Weight.ToTensor().Reshape(nHeads, dHead, dModel)));
            weights.Add((b + "attn.b_O", Bias(outProj)));
            var ln1 = m.LayerNormOf(m.ResidualAdd(outProj.Output, resid));
            AddNorm(weights, b + "ln1", ln1);

            var mlpIn = m.LinearsReading(ln1.Output);
            if (mlpIn.Count != 1)
                throw new OnnxFormatException($"ONNX block {layers}: {mlpIn.Count} Linear layers read the attention LayerNorm output '{ln1.Output}', expected 1 (the MLP input)");
            var (mlpOut, ops) = m.TraceToLinear(mlpIn[0].Output);
            var act = Activation(ops, layers);
            if (actFn is not null && act != actFn) throw new OnnxFormatException($"ONNX block {layers} uses activation {act} but earlier blocks use {actFn}");
            actFn = act;
            dMlp = (int)mlpIn[0].Weight.Dims[1];
            weights.Add((b + "mlp.W_in", mlpIn[0].Weight.ToTensor()));
            weights.Add((b + "mlp.b_in", Bias(mlpIn[0])));
            weights.Add((b + "mlp.W_out", mlpOut.Weight.ToTensor()));
            weights.Add((b + "mlp.b_out", Bias(mlpOut)));
            var ln2 = m.LayerNormOf(m.ResidualAdd(mlpOut.Output, ln1.Output));
            AddNorm(weights, b + "ln2", ln2);
            resid = ln2.Output;
        }
        if (layers == 0) throw new OnnxFormatException("the ONNX graph has no attention block after the embedding LayerNorm: it is not a BERT-style encoder");

        var config = new HookedTransformerConfig
        {
            NLayers = layers, DModel = dModel, NHeads = nHeads, DHead = dHead, DMlp = dMlp,
            DVocab = (int)word.Dims[0], NCtx = (int)pos.Dims[0], ActFn = actFn!, Eps = eps,
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Standard,
            AttnScale = Math.Abs(attnScale - Math.Sqrt(dHead)) < 1e-4 * Math.Sqrt(dHead) ? null : attnScale,
            Bidirectional = true, DefaultPrependBos = false, OriginalArchitecture = "BertModel (ONNX)",
        };
        return new Result(config, (int)type.Dims[0], weights);
    }

    /// <summary>The word, position and token-type tables and the value holding their sum.</summary>
    private static (OnnxTensor Word, OnnxTensor Pos, OnnxTensor Type, string Sum) Embeddings(OnnxGraph g)
    {
        var gathers = g.Nodes.Where(n => n.OpType == "Gather" && g.Initializers.TryGetValue(n.Inputs[0], out var t) && t.Dims.Length == 2).ToList();
        OnnxNode ByInput(string hint, string role) =>
            gathers.FirstOrDefault(n => n.Inputs[1] == hint) ?? throw new OnnxFormatException(
                $"the ONNX graph has no Gather of an embedding table indexed by graph input '{hint}' ({role}); its inputs are {string.Join(", ", g.Inputs)}");
        string ids = g.Inputs.FirstOrDefault(i => i.Contains("input_ids", StringComparison.OrdinalIgnoreCase)) ?? g.Inputs[0];
        string? typeInput = g.Inputs.FirstOrDefault(i => i.Contains("token_type", StringComparison.OrdinalIgnoreCase));
        var word = ByInput(ids, "word embeddings");
        var type = typeInput is null ? null : ByInput(typeInput, "token-type embeddings");
        var pos = gathers.Where(n => n != word && n != type).ToList();
        if (pos.Count != 1 || type is null)
            throw new OnnxFormatException($"expected three embedding Gathers (words by '{ids}', token types by a token_type_ids input, positions), found {gathers.Count} and token-type input {typeInput ?? "none"}: the graph is not a BERT embedding");
        // Follow the Adds from the word embedding to the value the embedding LayerNorm reads; it must sum all three lookups.
        string current = word.Outputs[0];
        while (!g.Consumers(current).Any(n => n.OpType is "ReduceMean" or "LayerNormalization"))
            current = g.Consumers(current).FirstOrDefault(n => n.OpType == "Add")?.Outputs[0]
                ?? throw new OnnxFormatException($"the ONNX embedding sum stops at '{current}' before any LayerNorm");
        var summed = AddOperands(g, current);
        foreach (var lookup in new[] { word, type, pos[0] })
            if (!summed.Contains(lookup.Outputs[0]))
                throw new OnnxFormatException($"the ONNX embedding LayerNorm input '{current}' does not include the lookup '{lookup.Name}' of '{lookup.Inputs[0]}'");
        return (g.Initializers[word.Inputs[0]], g.Initializers[pos[0].Inputs[0]], g.Initializers[type.Inputs[0]], current);
    }

    /// <summary>The leaves of the tree of Adds that produces <paramref name="value"/>.</summary>
    private static HashSet<string> AddOperands(OnnxGraph g, string value)
    {
        var leaves = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([value]);
        while (stack.Count > 0)
        {
            var v = stack.Pop();
            if (g.Producer(v) is { OpType: "Add" } add) foreach (var i in add.Inputs) stack.Push(i);
            else leaves.Add(v);
        }
        return leaves;
    }

    private static (int Heads, int DHead) HeadShape(OnnxPatterns m, OnnxPatterns.LinearMatch q, int dModel, int? nHeadsOverride)
    {
        int width = (int)q.Weight.Dims[1];
        if (nHeadsOverride is { } forced)
        {
            if (forced <= 0 || width % forced != 0) throw new ArgumentException($"nHeads {forced} does not divide the query width {width}");
            return (forced, width / forced);
        }
        var reshape = m.Graph.Consumers(q.Output).FirstOrDefault(n => n.OpType == "Reshape");
        if (reshape is not null)
        {
            var dims = m.ShapeConstants(reshape.Inputs[1]).Where(d => d > 0).ToList();
            if (dims.Count >= 2 && dims[^2] * dims[^1] == width) return ((int)dims[^2], (int)dims[^1]);
        }
        throw new OnnxFormatException($"cannot read the number of attention heads from the ONNX graph (query width {width}, model width {dModel}): pass nHeads explicitly");
    }

    /// <summary>The divisor applied to q·k (HookedTransformerConfig.AttnScale), from scalar factors on the way to and after the score MatMul.</summary>
    private static double ScoreScale(OnnxPatterns m, OnnxNode scores, double factor)
    {
        foreach (var n in m.Graph.Consumers(scores.Outputs[0]))
            if (n.OpType is "Div" or "Mul" && m.Graph.Constant(n.Inputs[1]) is { NumElements: 1 } c)
            {
                double f = c.ToFloats()[0];
                factor = n.OpType == "Mul" ? factor * f : factor / f;
            }
        return 1.0 / factor;
    }

    private static string Activation(HashSet<string> ops, int layer) =>
        ops.Contains("Tanh") || ops.Contains("FastGelu") ? "gelu_new"
        : ops.Contains("Erf") || ops.Contains("Gelu") ? "gelu"
        : ops.Contains("Relu") ? "relu"
        : ops.Contains("Sigmoid") ? "silu"
        : throw new OnnxFormatException($"ONNX block {layer}: the MLP activation (ops {string.Join(", ", ops)}) is not one of GELU (Erf/Tanh form), ReLU or SiLU");

    private static Tensor PerHead(OnnxTensor w, int heads, int dHead) =>
        w.ToTensor().Reshape(w.Dims[0], heads, dHead).Permute(1, 0, 2).Contiguous();

    private static Tensor Bias(OnnxPatterns.LinearMatch l) => l.Bias?.ToTensor() ?? Tensor.Zeros([l.Weight.Dims[1]]);

    private static void AddNorm(List<(string, Tensor)> weights, string name, OnnxPatterns.LayerNormMatch ln)
    {
        weights.Add((name + ".w", ln.Gamma.ToTensor()));
        weights.Add((name + ".b", ln.Beta.ToTensor()));
    }
}
