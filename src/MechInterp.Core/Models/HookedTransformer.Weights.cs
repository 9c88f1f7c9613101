namespace MechInterp;

/// <summary>Model-level weights stacked over layers, as TransformerLens's HookedTransformer exposes them
/// (<c>model.W_Q</c> [n_layers, n_heads, d_model, d_head], ...), and the labels and counts that go with them.</summary>
public sealed partial class HookedTransformer
{
    private Tensor StackBlocks(Func<Models.Components.TransformerBlock, Tensor> pick) => Tensor.Stack(Blocks.Select(pick).ToArray());

    private Models.Components.Mlp RequireMlp(Models.Components.TransformerBlock block, string weight) => block.Mlp ?? throw new InvalidOperationException(
        $"{weight} does not exist: '{Config.ModelName}' is attention-only (no MLP layers)");

    /// <summary>Key/value heads repeated to one per query head (GQA/MQA), as TransformerLens's stacked W_K/W_V show them.</summary>
    private Tensor PerQueryHead(Tensor kvHeads)
    {
        int group = Config.NHeads / Config.KvHeads;
        if (group == 1) return kvHeads;
        var index = Enumerable.Range(0, Config.NHeads).Select(h => (long)(h / group)).ToArray(); // [n_heads]: 0,0,..,1,1,..
        return kvHeads.IndexSelect(0, Tensor.FromArray(index, index.Length).To(kvHeads.Device));
    }

    /// <summary>W_Q [n_layers, n_heads, d_model, d_head].</summary>
    public Tensor W_Q => StackBlocks(b => b.Attn.W_Q);
    /// <summary>W_K [n_layers, n_heads, d_model, d_head]; with grouped-query attention each key head is repeated for
    /// the query heads that share it, as in TransformerLens (the block's own <c>Attn.W_K</c> keeps [n_kv_heads, ...]).</summary>
    public Tensor W_K => StackBlocks(b => PerQueryHead(b.Attn.W_K));
    /// <summary>W_V [n_layers, n_heads, d_model, d_head] (key/value heads repeated per query head, as <see cref="W_K"/>).</summary>
    public Tensor W_V => StackBlocks(b => PerQueryHead(b.Attn.W_V));
    /// <summary>W_O [n_layers, n_heads, d_head, d_model].</summary>
    public Tensor W_O => StackBlocks(b => b.Attn.W_O);
    /// <summary>b_Q [n_layers, n_heads, d_head].</summary>
    public Tensor b_Q => StackBlocks(b => b.Attn.b_Q);
    /// <summary>b_K [n_layers, n_heads, d_head] (repeated per query head, as <see cref="W_K"/>).</summary>
    public Tensor b_K => StackBlocks(b => PerQueryHead(b.Attn.b_K));
    /// <summary>b_V [n_layers, n_heads, d_head] (repeated per query head, as <see cref="W_K"/>).</summary>
    public Tensor b_V => StackBlocks(b => PerQueryHead(b.Attn.b_V));
    /// <summary>b_O [n_layers, d_model].</summary>
    public Tensor b_O => StackBlocks(b => b.Attn.b_O);
    /// <summary>W_in [n_layers, d_model, d_mlp].</summary>
    public Tensor W_in => StackBlocks(b => RequireMlp(b, "W_in").W_in.Value);
    /// <summary>W_gate [n_layers, d_model, d_mlp] (gated MLPs only).</summary>
    public Tensor W_gate => StackBlocks(b => RequireMlp(b, "W_gate").W_gate?.Value ?? throw new InvalidOperationException(
        $"W_gate does not exist: '{Config.ModelName}' has an ungated MLP (act_fn {Config.ActFn}); only gated MLPs (Llama, Gemma, Mistral) have one"));
    /// <summary>W_out [n_layers, d_mlp, d_model].</summary>
    public Tensor W_out => StackBlocks(b => RequireMlp(b, "W_out").W_out.Value);
    /// <summary>b_in [n_layers, d_mlp].</summary>
    public Tensor b_in => StackBlocks(b => RequireMlp(b, "b_in").b_in.Value);
    /// <summary>b_out [n_layers, d_model].</summary>
    public Tensor b_out => StackBlocks(b => RequireMlp(b, "b_out").b_out.Value);
    /// <summary>b_U [d_vocab_out] (zeros for a model whose unembedding has no bias).</summary>
    public Tensor b_U => Unembed.b_U.Value;

    /// <summary>W_E and W_pos concatenated, [d_vocab + n_ctx, d_model] (TransformerLens's W_E_pos).</summary>
    /// <exception cref="InvalidOperationException">The model has no learned positional embedding (rotary).</exception>
    public Tensor W_E_pos => Tensor.Concat([W_E, W_pos ?? throw new InvalidOperationException(
        $"W_E_pos needs learned positions, but '{Config.ModelName}' uses {Config.PositionalEmbeddingType} positional embeddings (no W_pos)")], 0);

    /// <summary>"L{l}H{h}" for every head, layer by layer (TransformerLens's all_head_labels).</summary>
    public string[] AllHeadLabels() =>
        [.. Enumerable.Range(0, Config.NLayers).SelectMany(l => Enumerable.Range(0, Config.NHeads).Select(h => $"L{l}H{h}"))];

    /// <summary>
    /// TransformerLens's <c>cfg.n_params</c>: the hidden weight count, without embeddings, biases and norms
    /// (n_layers × (4·d_model·d_head·n_heads + d_model·d_mlp·(2 + gated))). Counts W_K and W_V as if every query head
    /// had its own key/value head, as TransformerLens does. For every stored number use <see cref="Module.NamedParameters"/>.
    /// </summary>
    public long NParams
    {
        get
        {
            long attn = 4L * Config.DModel * Config.DHead * Config.NHeads;
            long mlp = Config.HasMlp ? (long)Config.DModel * Config.DMlp * (Config.GatedMlp ? 3 : 2) : 0;
            return Config.NLayers * (attn + mlp);
        }
    }

    /// <summary>
    /// The sum of the output biases that have entered the residual stream before <paramref name="layer"/> [d_model]:
    /// each earlier layer's b_O and (with <paramref name="includeMlpBiases"/>) b_out; with <paramref name="mlpInput"/>
    /// also b_O of <paramref name="layer"/> itself (what the MLP of that layer reads). TransformerLens's accumulated_bias.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is outside 0..n_layers (or mlpInput at n_layers).</exception>
    public Tensor AccumulatedBias(int layer, bool mlpInput = false, bool includeMlpBiases = true)
    {
        if (layer < 0 || layer > Config.NLayers || (mlpInput && layer == Config.NLayers))
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in 0..{Config.NLayers}{(mlpInput ? " (below n_layers with mlpInput)" : "")}");
        var bias = Tensor.Zeros([Config.DModel], W_E.DType, Device); // [d_model]
        for (int l = 0; l < layer; l++)
        {
            bias = bias + Blocks[l].Attn.b_O;
            if (includeMlpBiases && Blocks[l].Mlp is { } mlp) bias = bias + mlp.b_out.Value;
        }
        if (mlpInput) bias = bias + Blocks[layer].Attn.b_O;
        return bias;
    }
}
