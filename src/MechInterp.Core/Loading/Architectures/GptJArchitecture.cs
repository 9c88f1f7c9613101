namespace MechInterp.Loading.Architectures;

/// <summary>GPTJForCausalLM: partial adjacent-pair rotary, parallel attention + MLP sharing one LayerNorm (copied into
/// ln2 as TransformerLens does), no attention biases, untied lm_head with bias.</summary>
internal sealed class GptJArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = ["GPTJForCausalLM"];
    public string[] Prefixes { get; } = ["transformer."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("n_embd"), h = hf.Int("n_head");
        return new HookedTransformerConfig
        {
            NLayers = hf.Int("n_layer"), DModel = d, NHeads = h, DHead = d / h,
            DMlp = hf.IntOr(4 * d, "n_inner")!.Value, DVocab = hf.Int("vocab_size"), NCtx = hf.Int("n_positions"),
            ActFn = hf.String("activation_function") ?? "gelu_new", Eps = hf.Double(1e-5, "layer_norm_epsilon"),
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Rotary,
            RotaryDim = hf.IntOr(d / h, "rotary_dim"), RotaryAdjacentPairs = true, RotaryBase = 10000,
            ParallelAttnMlp = true, AttnBiases = false, AttnOutBias = false, UnembedBias = true,
            OriginalArchitecture = "GPTJForCausalLM", DefaultPrependBos = true,
        };
    }

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, dh = c.DHead;
        var wte = w.Get("transformer.wte.weight");
        yield return ("embed.W_E", wte);
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"transformer.h.{l}.", b = $"blocks.{l}.";
            var lnw = w.Get(p + "ln_1.weight");
            var lnb = w.Get(p + "ln_1.bias");
            yield return (b + "ln1.w", lnw);
            yield return (b + "ln1.b", lnb);
            yield return (b + "ln2.w", lnw.Clone());
            yield return (b + "ln2.b", lnb.Clone());
            yield return (b + "attn.W_Q", Layout.HeadsIn(w.Get(p + "attn.q_proj.weight"), h, dh, d));
            yield return (b + "attn.W_K", Layout.HeadsIn(w.Get(p + "attn.k_proj.weight"), h, dh, d));
            yield return (b + "attn.W_V", Layout.HeadsIn(w.Get(p + "attn.v_proj.weight"), h, dh, d));
            yield return (b + "attn.b_Q", Tensor.Zeros([h, dh]));
            yield return (b + "attn.b_K", Tensor.Zeros([h, dh]));
            yield return (b + "attn.b_V", Tensor.Zeros([h, dh]));
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "attn.out_proj.weight"), h, dh, d));
            yield return (b + "attn.b_O", Tensor.Zeros([d]));
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "mlp.fc_in.weight")));
            yield return (b + "mlp.b_in", w.Get(p + "mlp.fc_in.bias"));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "mlp.fc_out.weight")));
            yield return (b + "mlp.b_out", w.Get(p + "mlp.fc_out.bias"));
        }
        yield return ("ln_final.w", w.Get("transformer.ln_f.weight"));
        yield return ("ln_final.b", w.Get("transformer.ln_f.bias"));
        yield return ("unembed.W_U", Layout.In(w.Get("lm_head.weight")));
        yield return ("unembed.b_U", Layout.ZerosOr(w.TryGet("lm_head.bias"), c.VocabOut));
    }
}
