namespace MechInterp.Loading.Architectures;

/// <summary>OPTForCausalLM: learned positions stored with an offset of 2 rows, pre-LN blocks, ReLU, biases everywhere,
/// tied lm_head. Positions always follow the attention mask (as in HF and TransformerLens).</summary>
internal sealed class OptArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = ["OPTForCausalLM"];
    public string[] Prefixes { get; } = ["model."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("hidden_size"), h = hf.Int("num_attention_heads");
        if (!hf.Bool(true, "do_layer_norm_before"))
            throw new NotSupportedException($"'{hf.Path}' sets do_layer_norm_before = false (post-LN OPT-350m), which MechInterp does not implement");
        if (hf.IntOr(d, "word_embed_proj_dim") != d)
            throw new NotSupportedException($"'{hf.Path}' has word_embed_proj_dim != hidden_size (project_in/out), which MechInterp does not implement");
        return new HookedTransformerConfig
        {
            NLayers = hf.Int("num_hidden_layers"), DModel = d, NHeads = h, DHead = d / h,
            DMlp = hf.Int("ffn_dim"), DVocab = hf.Int("vocab_size"), NCtx = hf.Int("max_position_embeddings"),
            ActFn = hf.String("activation_function") ?? "relu", Eps = 1e-5,
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Standard,
            OriginalArchitecture = "OPTForCausalLM", DefaultPrependBos = true,
        };
    }

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, dh = c.DHead;
        const string m = "model.decoder.";
        var embed = w.Get(m + "embed_tokens.weight");
        yield return ("embed.W_E", embed);
        var positions = w.Get(m + "embed_positions.weight");
        yield return ("pos_embed.W_pos", positions.Narrow(0, 2, positions.Shape[0] - 2).Contiguous());
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"{m}layers.{l}.", b = $"blocks.{l}.";
            yield return (b + "ln1.w", w.Get(p + "self_attn_layer_norm.weight"));
            yield return (b + "ln1.b", w.Get(p + "self_attn_layer_norm.bias"));
            yield return (b + "attn.W_Q", Layout.HeadsIn(w.Get(p + "self_attn.q_proj.weight"), h, dh, d));
            yield return (b + "attn.W_K", Layout.HeadsIn(w.Get(p + "self_attn.k_proj.weight"), h, dh, d));
            yield return (b + "attn.W_V", Layout.HeadsIn(w.Get(p + "self_attn.v_proj.weight"), h, dh, d));
            yield return (b + "attn.b_Q", Layout.HeadBias(w.Get(p + "self_attn.q_proj.bias"), h, dh));
            yield return (b + "attn.b_K", Layout.HeadBias(w.Get(p + "self_attn.k_proj.bias"), h, dh));
            yield return (b + "attn.b_V", Layout.HeadBias(w.Get(p + "self_attn.v_proj.bias"), h, dh));
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "self_attn.out_proj.weight"), h, dh, d));
            yield return (b + "attn.b_O", w.Get(p + "self_attn.out_proj.bias"));
            yield return (b + "ln2.w", w.Get(p + "final_layer_norm.weight"));
            yield return (b + "ln2.b", w.Get(p + "final_layer_norm.bias"));
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "fc1.weight")));
            yield return (b + "mlp.b_in", w.Get(p + "fc1.bias"));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "fc2.weight")));
            yield return (b + "mlp.b_out", w.Get(p + "fc2.bias"));
        }
        yield return ("ln_final.w", w.Get(m + "final_layer_norm.weight"));
        yield return ("ln_final.b", w.Get(m + "final_layer_norm.bias"));
        yield return ("unembed.W_U", Layout.In(w.TryGet("lm_head.weight") ?? embed));
        yield return ("unembed.b_U", Tensor.Zeros([c.VocabOut]));
    }
}
