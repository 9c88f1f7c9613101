namespace MechInterp.Loading.Architectures;

/// <summary>GPTNeoXForCausalLM (Pythia): fused per-head q|k|v, partial rotate-half rotary, parallel residual, untied embed_out.</summary>
internal sealed class NeoXArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = ["GPTNeoXForCausalLM"];
    public string[] Prefixes { get; } = ["gpt_neox."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("hidden_size"), h = hf.Int("num_attention_heads");
        int dh = d / h;
        hf.RejectIfSet("rope_scaling", "rotary scaling");
        return new HookedTransformerConfig
        {
            NLayers = hf.Int("num_hidden_layers"), DModel = d, NHeads = h, DHead = dh,
            DMlp = hf.Int("intermediate_size"), DVocab = hf.Int("vocab_size"), NCtx = hf.Int("max_position_embeddings"),
            ActFn = hf.String("hidden_act") ?? "gelu", Eps = hf.Double(1e-5, "layer_norm_eps"),
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Rotary,
            RotaryDim = (int)(dh * hf.Double(1.0, "rotary_pct")), RotaryBase = hf.Double(10000, "rotary_emb_base", "rope_theta"),
            ParallelAttnMlp = hf.Bool(true, "use_parallel_residual"),
            OriginalArchitecture = "GPTNeoXForCausalLM", DefaultPrependBos = true,
        };
    }

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, dh = c.DHead;
        var embed = w.Get("gpt_neox.embed_in.weight");
        yield return ("embed.W_E", embed);
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"gpt_neox.layers.{l}.", b = $"blocks.{l}.";
            yield return (b + "ln1.w", w.Get(p + "input_layernorm.weight"));
            yield return (b + "ln1.b", w.Get(p + "input_layernorm.bias"));
            var qkv = w.Get(p + "attention.query_key_value.weight").Reshape(h, 3, dh, d);
            var qkvBias = w.Get(p + "attention.query_key_value.bias").Reshape(h, 3, dh);
            string[] names = ["W_Q", "W_K", "W_V"];
            string[] biases = ["b_Q", "b_K", "b_V"];
            for (int i = 0; i < 3; i++)
            {
                yield return (b + "attn." + names[i], qkv.Select(1, i).Transpose(1, 2).Contiguous());
                yield return (b + "attn." + biases[i], qkvBias.Select(1, i).Contiguous());
            }
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "attention.dense.weight"), h, dh, d));
            yield return (b + "attn.b_O", w.Get(p + "attention.dense.bias"));
            yield return (b + "ln2.w", w.Get(p + "post_attention_layernorm.weight"));
            yield return (b + "ln2.b", w.Get(p + "post_attention_layernorm.bias"));
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "mlp.dense_h_to_4h.weight")));
            yield return (b + "mlp.b_in", w.Get(p + "mlp.dense_h_to_4h.bias"));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "mlp.dense_4h_to_h.weight")));
            yield return (b + "mlp.b_out", w.Get(p + "mlp.dense_4h_to_h.bias"));
        }
        yield return ("ln_final.w", w.Get("gpt_neox.final_layer_norm.weight"));
        yield return ("ln_final.b", w.Get("gpt_neox.final_layer_norm.bias"));
        yield return ("unembed.W_U", Layout.In(w.TryGet("embed_out.weight") ?? embed));
        yield return ("unembed.b_U", Tensor.Zeros([c.VocabOut]));
    }
}
