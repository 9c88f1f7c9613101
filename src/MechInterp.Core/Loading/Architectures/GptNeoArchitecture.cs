namespace MechInterp.Loading.Architectures;

/// <summary>GPTNeoForCausalLM: learned positions, global/local layers from attention_layers with window_size, no
/// attention scaling, q/k/v without bias, tied lm_head.</summary>
internal sealed class GptNeoArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = ["GPTNeoForCausalLM"];
    public string[] Prefixes { get; } = ["transformer."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("hidden_size"), h = hf.Int("num_heads"), layers = hf.Int("num_layers");
        var types = new AttentionType[layers];
        if (hf.Element("attention_layers") is { } list)
        {
            if (list.GetArrayLength() != layers) throw new InvalidDataException($"'{hf.Path}': attention_layers has {list.GetArrayLength()} entries for {layers} layers");
            for (int l = 0; l < layers; l++)
                types[l] = list[l].GetString() switch
                {
                    "global" => AttentionType.Global,
                    "local" => AttentionType.Local,
                    var other => throw new NotSupportedException($"'{hf.Path}': attention type '{other}' of layer {l} is not supported (global, local)"),
                };
        }
        return new HookedTransformerConfig
        {
            NLayers = layers, DModel = d, NHeads = h, DHead = d / h,
            DMlp = hf.IntOr(4 * d, "intermediate_size")!.Value, DVocab = hf.Int("vocab_size"), NCtx = hf.Int("max_position_embeddings"),
            ActFn = hf.String("activation_function") ?? "gelu_new", Eps = hf.Double(1e-5, "layer_norm_epsilon"),
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Standard,
            UseAttnScale = false, AttnBiases = false, AttnTypes = types, WindowSize = hf.IntOr(256, "window_size"),
            OriginalArchitecture = "GPTNeoForCausalLM", DefaultPrependBos = true,
        };
    }

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, dh = c.DHead;
        var wte = w.Get("transformer.wte.weight");
        yield return ("embed.W_E", wte);
        yield return ("pos_embed.W_pos", w.Get("transformer.wpe.weight"));
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"transformer.h.{l}.", b = $"blocks.{l}.";
            yield return (b + "ln1.w", w.Get(p + "ln_1.weight"));
            yield return (b + "ln1.b", w.Get(p + "ln_1.bias"));
            yield return (b + "attn.W_Q", Layout.HeadsIn(w.Get(p + "attn.attention.q_proj.weight"), h, dh, d));
            yield return (b + "attn.W_K", Layout.HeadsIn(w.Get(p + "attn.attention.k_proj.weight"), h, dh, d));
            yield return (b + "attn.W_V", Layout.HeadsIn(w.Get(p + "attn.attention.v_proj.weight"), h, dh, d));
            yield return (b + "attn.b_Q", Tensor.Zeros([h, dh]));
            yield return (b + "attn.b_K", Tensor.Zeros([h, dh]));
            yield return (b + "attn.b_V", Tensor.Zeros([h, dh]));
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "attn.attention.out_proj.weight"), h, dh, d));
            yield return (b + "attn.b_O", w.Get(p + "attn.attention.out_proj.bias"));
            yield return (b + "ln2.w", w.Get(p + "ln_2.weight"));
            yield return (b + "ln2.b", w.Get(p + "ln_2.bias"));
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "mlp.c_fc.weight")));
            yield return (b + "mlp.b_in", w.Get(p + "mlp.c_fc.bias"));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "mlp.c_proj.weight")));
            yield return (b + "mlp.b_out", w.Get(p + "mlp.c_proj.bias"));
        }
        yield return ("ln_final.w", w.Get("transformer.ln_f.weight"));
        yield return ("ln_final.b", w.Get("transformer.ln_f.bias"));
        yield return ("unembed.W_U", Layout.In(w.TryGet("lm_head.weight") ?? wte));
        yield return ("unembed.b_U", Tensor.Zeros([c.VocabOut]));
    }
}
