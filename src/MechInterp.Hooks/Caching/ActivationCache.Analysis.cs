namespace MechInterp;

public sealed partial class ActivationCache
{
    private int NLayers => Model.Config.NLayers;

    private static Tensor SlicePos(Tensor t, Slice? posSlice, int posDim) => posSlice is { } s ? s.Apply(t, posDim) : t;

    private int PosDim => HasBatchDim ? 1 : 0;

    /// <summary>A "layers below" bound: null or -1 means every layer (n_layers); otherwise 0..n_layers.</summary>
    private int LayerBound(int? layer, string name = "layer")
    {
        int upTo = layer is null or -1 ? NLayers : layer.Value;
        if (upTo < 0 || upTo > NLayers) throw new ArgumentOutOfRangeException(name, layer, $"{name} must be in 0..{NLayers} (or -1 for all {NLayers} layers)");
        return upTo;
    }

    /// <summary>
    /// The residual stream entering each layer up to and including <paramref name="layer"/> (TransformerLens: "the
    /// accumulated streams up to the input to layer l"); with null, -1 or n_layers every layer's and then the final
    /// residual. Stacked as [components, batch, pos, d_model]; <paramref name="inclMid"/> adds the mid-layer residuals
    /// of earlier layers, <paramref name="mlpInput"/> that of <paramref name="layer"/> itself.
    /// </summary>
    public (Tensor Stack, string[] Labels) AccumulatedResid(int? layer = null, bool inclMid = false, bool applyLn = false, Slice? posSlice = null, bool mlpInput = false)
    {
        int upTo = layer is null or -1 ? NLayers : layer.Value;
        if (upTo < 0 || upTo > NLayers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in 0..{NLayers} (or -1)");
        var parts = new List<Tensor>();
        var labels = new List<string>();
        for (int l = 0; l <= upTo && l < NLayers; l++)
        {
            parts.Add(this["resid_pre", l]); labels.Add($"{l}_pre");
            bool mid = (inclMid && l < upTo) || (mlpInput && l == upTo);
            if (mid && ContainsKey(ActName.ResidMid(l))) { parts.Add(this["resid_mid", l]); labels.Add($"{l}_mid"); }
        }
        if (upTo == NLayers) { parts.Add(this["resid_post", NLayers - 1]); labels.Add("final_post"); }
        var stack = Tensor.Stack(parts.Select(p => SlicePos(p, posSlice, PosDim)).ToArray());
        if (applyLn) stack = ApplyLnToStack(stack, upTo == NLayers ? null : upTo, mlpInput, posSlice);
        return (stack, [.. labels]);
    }

    /// <summary>
    /// The residual stream entering <paramref name="layer"/> (the final residual when null) decomposed into the outputs
    /// of every earlier component: embed, pos_embed, then each layer's attn_out and mlp_out ([components, batch, pos,
    /// d_model]). The components sum to the residual exactly. <paramref name="mode"/> is "all", "attn" or "mlp".
    /// </summary>
    public (Tensor Stack, string[] Labels) DecomposeResid(int? layer = null, bool mlpInput = false, string mode = "all",
        bool applyLn = false, bool inclEmbeds = true, Slice? posSlice = null)
    {
        int upTo = layer is null or -1 ? NLayers : layer.Value;
        if (upTo < 0 || upTo > NLayers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in 0..{NLayers} (or -1)");
        if (mode is not ("all" or "attn" or "mlp")) throw new ArgumentException($"mode must be \"all\", \"attn\" or \"mlp\", got '{mode}'", nameof(mode));
        var parts = new List<Tensor>();
        var labels = new List<string>();
        if (inclEmbeds)
        {
            parts.Add(this["hook_embed"]); labels.Add("embed");
            if (ContainsKey("hook_pos_embed")) { parts.Add(this["hook_pos_embed"]); labels.Add("pos_embed"); }
        }
        for (int l = 0; l < upTo; l++)
        {
            if (mode != "mlp") { parts.Add(this["attn_out", l]); labels.Add($"{l}_attn_out"); }
            if (mode != "attn" && ContainsKey(ActName.MlpOut(l))) { parts.Add(this["mlp_out", l]); labels.Add($"{l}_mlp_out"); }
        }
        if (mlpInput && upTo < NLayers && mode != "mlp") { parts.Add(this["attn_out", upTo]); labels.Add($"{upTo}_attn_out"); }
        var stack = Tensor.Stack(parts.Select(p => SlicePos(p, posSlice, PosDim)).ToArray());
        if (applyLn) stack = ApplyLnToStack(stack, upTo == NLayers ? null : upTo, mlpInput, posSlice);
        return (stack, [.. labels]);
    }

    /// <summary>Adds <c>blocks.{l}.attn.hook_result</c> [batch, pos, head, d_model] computed from hook_z and W_O.</summary>
    public void ComputeHeadResults()
    {
        for (int l = 0; l < NLayers; l++)
        {
            var name = ActName.Result(l);
            if (ContainsKey(name)) continue;
            var z = this["z", l];
            using var _ = GradMode.NoGrad();
            Add(name, Tensor.Einsum("...he,hed->...hd", z, Decoder.Blocks[l].Attn.W_O));
        }
    }

    /// <summary>Each head's output for layers below <paramref name="layer"/> stacked as [layers*heads, batch, pos, d_model]
    /// with labels "L{l}H{h}"; with <paramref name="inclRemainder"/> one more entry: the residual minus all heads.</summary>
    public (Tensor Stack, string[] Labels) StackHeadResults(int? layer = null, bool inclRemainder = false, bool applyLn = false, Slice? posSlice = null)
    {
        int upTo = LayerBound(layer);
        ComputeHeadResults();
        var parts = new List<Tensor>();
        var labels = new List<string>();
        for (int l = 0; l < upTo; l++)
        {
            var result = SlicePos(this["result", l], posSlice, PosDim); // [b, p, h, d] (fewer dims without batch or pos)
            int headDim = result.Rank - 2;
            for (int h = 0; h < Model.Config.NHeads; h++) { parts.Add(result.Select(headDim, h)); labels.Add($"L{l}H{h}"); }
        }
        var stack = Tensor.Stack(parts);
        if (inclRemainder)
        {
            var resid = SlicePos(upTo == NLayers ? this["resid_post", NLayers - 1] : this["resid_pre", upTo], posSlice, PosDim);
            stack = Tensor.Concat([stack, (resid - stack.Sum(0)).Unsqueeze(0)], 0);
            labels.Add("remainder");
        }
        if (applyLn) stack = ApplyLnToStack(stack, upTo == NLayers ? null : upTo, false, posSlice);
        return (stack, [.. labels]);
    }

    /// <summary>Each neuron's contribution post[..., n] * W_out[n] for layers below <paramref name="layer"/>, stacked as
    /// [layers*d_mlp, batch, pos, d_model] with labels "L{l}N{n}" (large: slice positions when you can).</summary>
    public (Tensor Stack, string[] Labels) StackNeuronResults(int? layer = null, bool inclRemainder = false, bool applyLn = false, Slice? posSlice = null)
    {
        int upTo = LayerBound(layer);
        var parts = new List<Tensor>();
        var labels = new List<string>();
        for (int l = 0; l < upTo; l++)
        {
            var mlp = Decoder.Blocks[l].Mlp ?? throw new InvalidOperationException("the model has no MLP layers");
            var post = SlicePos(this["post", l], posSlice, PosDim); // [b, p, m]
            var contributions = Tensor.Einsum("...m,md->m...d", post, mlp.W_out.Value); // [m, b, p, d]
            parts.Add(contributions);
            labels.AddRange(Enumerable.Range(0, (int)post.Shape[^1]).Select(n => $"L{l}N{n}"));
        }
        var stack = Tensor.Concat(parts, 0);
        if (inclRemainder)
        {
            var resid = SlicePos(upTo == NLayers ? this["resid_post", NLayers - 1] : this["resid_pre", upTo], posSlice, PosDim);
            stack = Tensor.Concat([stack, (resid - stack.Sum(0)).Unsqueeze(0)], 0);
            labels.Add("remainder");
        }
        if (applyLn) stack = ApplyLnToStack(stack, upTo == NLayers ? null : upTo, false, posSlice);
        return (stack, [.. labels]);
    }
}
