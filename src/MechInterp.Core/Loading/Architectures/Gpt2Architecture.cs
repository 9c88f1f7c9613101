namespace MechInterp.Loading.Architectures;

/// <summary>GPT2LMHeadModel: learned positions, Conv1D weights [in, out], fused c_attn (q | k | v), gelu_new, tied lm_head.</summary>
internal sealed class Gpt2Architecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = ["GPT2LMHeadModel", "GPT2Model"];
    public string[] Prefixes { get; } = ["transformer."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("n_embd"), h = hf.Int("n_head");
        hf.RejectIfSet("scale_attn_by_inverse_layer_idx", "per-layer attention scaling");
        hf.RejectIfSet("reorder_and_upcast_attn", "re-ordered attention upcasting");
        return new HookedTransformerConfig
        {
            NLayers = hf.Int("n_layer"), DModel = d, NHeads = h, DHead = d / h,
            DMlp = hf.IntOr(4 * d, "n_inner")!.Value, DVocab = hf.Int("vocab_size"), NCtx = hf.Int("n_positions", "n_ctx"),
            ActFn = hf.String("activation_function") ?? "gelu_new", Eps = hf.Double(1e-5, "layer_norm_epsilon"),
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Standard,
            UseAttnScale = hf.Bool(true, "scale_attn_weights"),
            OriginalArchitecture = "GPT2LMHeadModel", DefaultPrependBos = true,
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
            var qkv = w.Get(p + "attn.c_attn.weight"); // [d, 3d]
            var qkvBias = w.Get(p + "attn.c_attn.bias");
            string[] names = ["W_Q", "W_K", "W_V"];
            string[] biases = ["b_Q", "b_K", "b_V"];
            for (int i = 0; i < 3; i++)
            {
                yield return (b + "attn." + names[i], qkv.Narrow(1, i * d, d).Reshape(d, h, dh).Permute(1, 0, 2));
                yield return (b + "attn." + biases[i], qkvBias.Narrow(0, i * d, d).Reshape(h, dh));
            }
            yield return (b + "attn.W_O", w.Get(p + "attn.c_proj.weight").Reshape(h, dh, d));
            yield return (b + "attn.b_O", w.Get(p + "attn.c_proj.bias"));
            yield return (b + "ln2.w", w.Get(p + "ln_2.weight"));
            yield return (b + "ln2.b", w.Get(p + "ln_2.bias"));
            yield return (b + "mlp.W_in", w.Get(p + "mlp.c_fc.weight"));
            yield return (b + "mlp.b_in", w.Get(p + "mlp.c_fc.bias"));
            yield return (b + "mlp.W_out", w.Get(p + "mlp.c_proj.weight"));
            yield return (b + "mlp.b_out", w.Get(p + "mlp.c_proj.bias"));
        }
        yield return ("ln_final.w", w.Get("transformer.ln_f.weight"));
        yield return ("ln_final.b", w.Get("transformer.ln_f.bias"));
        yield return ("unembed.W_U", (w.TryGet("lm_head.weight") ?? wte).T);
        yield return ("unembed.b_U", Tensor.Zeros([c.VocabOut]));
    }
}
