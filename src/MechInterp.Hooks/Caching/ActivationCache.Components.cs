namespace MechInterp;

public sealed partial class ActivationCache
{
    /// <summary>One activation of every layer below <paramref name="layer"/> (all layers for -1), stacked as
    /// [layers, ...] (TransformerLens's stack_activation), e.g. <c>StackActivation("pattern")</c> →
    /// [n_layers, batch, head, q, k]. <paramref name="sublayerType"/> is the layer type of "scale"/"normalized".</summary>
    public Tensor StackActivation(string activationName, int layer = -1, string? sublayerType = null)
    {
        int upTo = LayerBound(layer);
        if (upTo == 0) throw new ArgumentOutOfRangeException(nameof(layer), layer, "StackActivation stacks the layers below 'layer': give 1..n_layers, or -1 for all");
        return Tensor.Stack(Enumerable.Range(0, upTo).Select(l => this[activationName, l, sublayerType]).ToArray());
    }

    /// <summary>Each neuron's contribution to the residual stream at <paramref name="layer"/> (negative counts from the
    /// end): <c>post[..., n] * W_out[n]</c>, [batch, pos, neurons, d_model] (TransformerLens's get_neuron_results).
    /// <paramref name="neuronSlice"/> picks neurons, <paramref name="posSlice"/> positions (an index drops the dim).
    /// Summed over neurons it is <c>mlp_out - b_out</c>.</summary>
    public Tensor GetNeuronResults(int layer, Slice? neuronSlice = null, Slice? posSlice = null)
    {
        int l = ResolveLayer(layer);
        var mlp = Decoder.Blocks[l].Mlp ?? throw new InvalidOperationException("GetNeuronResults needs MLP layers: the model is attention-only");
        var acts = this["post", l]; // [batch, pos, d_mlp]
        var wOut = mlp.W_out.Value; // [d_mlp, d_model]
        if (posSlice is { } p) acts = p.Apply(acts, -2);
        if (neuronSlice is { } n)
        {
            acts = n.Apply(acts, -1);
            wOut = n.Apply(wOut, 0);
        }
        return acts.Unsqueeze(-1) * wOut; // [batch, pos, neurons, d_model]
    }

    /// <summary>
    /// The residual stream entering <paramref name="layer"/> (the final residual for null or -1; the MLP's input of that
    /// layer with <paramref name="mlpInput"/>) split into its finest parts (TransformerLens's
    /// get_full_resid_decomposition): every head's output, every neuron's output (or each layer's mlp_out when not
    /// <paramref name="expandNeurons"/>), embed, pos_embed, and the accumulated biases ("bias"). The parts sum to the
    /// residual. Stacked as [components, batch, pos, d_model] with labels "L{l}H{h}", "L{l}N{n}", "embed", "pos_embed",
    /// "bias".
    /// </summary>
    public (Tensor Stack, string[] Labels) GetFullResidDecomposition(int? layer = null, bool mlpInput = false, bool expandNeurons = true,
        bool applyLn = false, Slice? posSlice = null)
    {
        int upTo = LayerBound(layer);
        if (mlpInput && upTo == NLayers) throw new ArgumentOutOfRangeException(nameof(layer), layer, "mlpInput needs a layer below n_layers (the final residual has no MLP after it)");
        var parts = new List<Tensor>();
        var labels = new List<string>();
        int headLayers = upTo + (mlpInput ? 1 : 0);
        if (headLayers > 0)
        {
            var (heads, headLabels) = StackHeadResults(headLayers, posSlice: posSlice);
            parts.Add(heads); labels.AddRange(headLabels);
        }
        if (Model.Config.HasMlp && upTo > 0)
        {
            var (mlps, mlpLabels) = expandNeurons ? StackNeuronResults(upTo, posSlice: posSlice)
                : DecomposeResid(upTo, mlpInput, "mlp", inclEmbeds: false, posSlice: posSlice);
            parts.Add(mlps); labels.AddRange(mlpLabels);
        }
        var embed = SlicePos(this["hook_embed"], posSlice, PosDim); // [batch, pos, d_model]
        parts.Add(embed.Unsqueeze(0)); labels.Add("embed");
        if (ContainsKey("hook_pos_embed")) { parts.Add(SlicePos(this["hook_pos_embed"], posSlice, PosDim).Unsqueeze(0)); labels.Add("pos_embed"); }
        var bias = Decoder.AccumulatedBias(upTo, mlpInput, includeMlpBiases: expandNeurons); // [d_model]
        parts.Add(bias.To(embed.Device).Reshape([.. Enumerable.Repeat(1L, embed.Rank), bias.Shape[0]]).Expand([1, .. embed.Shape])); labels.Add("bias");
        var stack = Tensor.Concat(parts, 0);
        if (applyLn) stack = ApplyLnToStack(stack, upTo, mlpInput, posSlice);
        return (stack, [.. labels]);
    }
}
