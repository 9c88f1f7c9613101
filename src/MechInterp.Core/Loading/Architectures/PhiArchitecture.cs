namespace MechInterp.Loading.Architectures;

/// <summary>PhiForCausalLM: partial rotate-half rotary, parallel attention + MLP sharing one LayerNorm (copied into ln2),
/// biases everywhere, untied lm_head with bias.</summary>
internal sealed class PhiArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = ["PhiForCausalLM"];
    public string[] Prefixes { get; } = ["model."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("hidden_size"), h = hf.Int("num_attention_heads");
        int dh = d / h;
        hf.RejectIfSet("rope_scaling", "rotary scaling");
        hf.RejectIfSet("qk_layernorm", "query/key layer norms");
        if (hf.IntOr(h, "num_key_value_heads") != h) throw new NotSupportedException($"'{hf.Path}': Phi with grouped key/value heads is not supported");
        return new HookedTransformerConfig
        {
            NLayers = hf.Int("num_hidden_layers"), DModel = d, NHeads = h, DHead = dh,
            DMlp = hf.Int("intermediate_size"), DVocab = hf.Int("vocab_size"), NCtx = hf.Int("max_position_embeddings"),
            ActFn = hf.String("hidden_act") ?? "gelu_new", Eps = hf.Double(1e-5, "layer_norm_eps"),
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Rotary,
            RotaryDim = (int)(hf.Double(0.5, "partial_rotary_factor") * dh), RotaryBase = hf.Double(10000, "rope_theta"),
            ParallelAttnMlp = true, UnembedBias = true,
            OriginalArchitecture = "PhiForCausalLM", DefaultPrependBos = true,
        };
    }

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, dh = c.DHead;
        yield return ("embed.W_E", w.Get("model.embed_tokens.weight"));
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"model.layers.{l}.", b = $"blocks.{l}.";
            var lnw = w.Get(p + "input_layernorm.weight");
            var lnb = w.Get(p + "input_layernorm.bias");
            yield return (b + "ln1.w", lnw);
            yield return (b + "ln1.b", lnb);
            yield return (b + "ln2.w", lnw.Clone());
            yield return (b + "ln2.b", lnb.Clone());
            yield return (b + "attn.W_Q", Layout.HeadsIn(w.Get(p + "self_attn.q_proj.weight"), h, dh, d));
            yield return (b + "attn.W_K", Layout.HeadsIn(w.Get(p + "self_attn.k_proj.weight"), h, dh, d));
            yield return (b + "attn.W_V", Layout.HeadsIn(w.Get(p + "self_attn.v_proj.weight"), h, dh, d));
            yield return (b + "attn.b_Q", Layout.HeadBias(w.Get(p + "self_attn.q_proj.bias"), h, dh));
            yield return (b + "attn.b_K", Layout.HeadBias(w.Get(p + "self_attn.k_proj.bias"), h, dh));
            yield return (b + "attn.b_V", Layout.HeadBias(w.Get(p + "self_attn.v_proj.bias"), h, dh));
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "self_attn.dense.weight"), h, dh, d));
            yield return (b + "attn.b_O", w.Get(p + "self_attn.dense.bias"));
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "mlp.fc1.weight")));
            yield return (b + "mlp.b_in", w.Get(p + "mlp.fc1.bias"));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "mlp.fc2.weight")));
            yield return (b + "mlp.b_out", w.Get(p + "mlp.fc2.bias"));
        }
        yield return ("ln_final.w", w.Get("model.final_layernorm.weight"));
        yield return ("ln_final.b", w.Get("model.final_layernorm.bias"));
        yield return ("unembed.W_U", Layout.In(w.Get("lm_head.weight")));
        yield return ("unembed.b_U", w.Get("lm_head.bias"));
    }
}
