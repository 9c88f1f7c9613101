namespace MechInterp.Loading.Architectures;

/// <summary>
/// Llama-style decoders: LlamaForCausalLM, MistralForCausalLM (sliding window), Qwen2ForCausalLM (q/k/v biases),
/// GemmaForCausalLM (√d embedding scale, RMSNorm × (1 + w), tied) and Gemma2ForCausalLM (plus soft caps, post
/// norms, alternating local/global layers). Separate q/k/v/o projections [out, in], RMSNorm, rotate-half rotary,
/// gated MLP.
/// </summary>
internal sealed class LlamaFamilyArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } =
        ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "GemmaForCausalLM", "Gemma2ForCausalLM"];
    public string[] Prefixes { get; } = ["model."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        string arch = hf.Architecture;
        bool gemma = arch.StartsWith("Gemma", StringComparison.Ordinal);
        bool gemma2 = arch == "Gemma2ForCausalLM";
        int d = hf.Int("hidden_size"), h = hf.Int("num_attention_heads");
        int dh = hf.IntOr(d / h, "head_dim")!.Value;
        int layers = hf.Int("num_hidden_layers");
        hf.RejectIfSet("rope_scaling", "rotary scaling (linear/dynamic/llama3/yarn)");
        if (hf.Double(1, "pretraining_tp") != 1) throw new NotSupportedException($"'{hf.Path}' sets pretraining_tp != 1, which MechInterp does not implement");
        int? window = null;
        AttentionType[]? types = null;
        if (arch == "MistralForCausalLM" && hf.IntOr(null, "sliding_window") is { } sw)
        {
            window = sw;
            types = Layout.Alternating(layers, _ => true);
        }
        if (arch == "Qwen2ForCausalLM" && hf.Bool(false, "use_sliding_window"))
            throw new NotSupportedException($"'{hf.Path}' sets use_sliding_window = true for Qwen2, which MechInterp does not implement yet");
        if (gemma2 && hf.IntOr(null, "sliding_window") is { } gsw)
        {
            window = gsw;
            types = Layout.Alternating(layers, l => l % 2 == 0);
        }
        string act = gemma ? hf.String("hidden_activation") ?? "gelu_pytorch_tanh" : hf.String("hidden_act") ?? "silu";
        if (gemma && act == "gelu") act = "gelu_pytorch_tanh"; // HF Gemma's documented default for legacy configs
        bool qkvBias = arch == "Qwen2ForCausalLM" || hf.Bool(false, "attention_bias");
        return new HookedTransformerConfig
        {
            NLayers = layers, DModel = d, NHeads = h, DHead = dh,
            NKeyValueHeads = hf.IntOr(h, "num_key_value_heads"),
            DMlp = hf.Int("intermediate_size"), DVocab = hf.Int("vocab_size"), NCtx = hf.Int("max_position_embeddings"),
            ActFn = act, Eps = hf.Double(1e-6, "rms_norm_eps"), NormalizationType = NormalizationType.RMS,
            PositionalEmbeddingType = PositionalEmbeddingType.Rotary, RotaryBase = hf.Double(10000, "rope_theta"),
            RotaryAdjacentPairs = false, GatedMlp = true,
            AttnBiases = qkvBias, AttnOutBias = false, MlpBiases = hf.Bool(false, "mlp_bias"),
            AttnTypes = types, WindowSize = window,
            AttnScale = gemma2 ? Math.Sqrt(hf.Double(dh, "query_pre_attn_scalar")) : null,
            AttnScoresSoftCap = gemma2 ? hf.Double(0, "attn_logit_softcapping") : 0,
            OutputLogitsSoftCap = gemma2 ? hf.Double(0, "final_logit_softcapping") : 0,
            UseNormalizationBeforeAndAfter = gemma2,
            ScaleEmbeddingBySqrtDModel = gemma,
            // TransformerLens prepends BOS by default for every family but Qwen (and BLOOM): Qwen2 was trained without one.
            OriginalArchitecture = arch, DefaultPrependBos = arch != "Qwen2ForCausalLM",
        };
    }

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, kv = c.KvHeads, dh = c.DHead;
        bool gemma = c.ScaleEmbeddingBySqrtDModel;
        bool gemma2 = c.UseNormalizationBeforeAndAfter;
        Tensor Norm(string name) => gemma ? w.Get(name) + 1.0 : w.Get(name);
        var embed = w.Get("model.embed_tokens.weight");
        // HF multiplies the embedding by sqrt(d_model) rounded to the activation dtype (float32); fold it into W_E.
        yield return ("embed.W_E", gemma ? embed * (double)MathF.Sqrt(d) : embed);
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"model.layers.{l}.", b = $"blocks.{l}.";
            yield return (b + "ln1.w", Norm(p + "input_layernorm.weight"));
            if (gemma2)
            {
                yield return (b + "ln1_post.w", Norm(p + "post_attention_layernorm.weight"));
                yield return (b + "ln2.w", Norm(p + "pre_feedforward_layernorm.weight"));
                yield return (b + "ln2_post.w", Norm(p + "post_feedforward_layernorm.weight"));
            }
            else yield return (b + "ln2.w", Norm(p + "post_attention_layernorm.weight"));
            yield return (b + "attn.W_Q", Layout.HeadsIn(w.Get(p + "self_attn.q_proj.weight"), h, dh, d));
            yield return (b + "attn.W_K", Layout.HeadsIn(w.Get(p + "self_attn.k_proj.weight"), kv, dh, d));
            yield return (b + "attn.W_V", Layout.HeadsIn(w.Get(p + "self_attn.v_proj.weight"), kv, dh, d));
            yield return (b + "attn.b_Q", Layout.HeadBias(w.TryGet(p + "self_attn.q_proj.bias"), h, dh));
            yield return (b + "attn.b_K", Layout.HeadBias(w.TryGet(p + "self_attn.k_proj.bias"), kv, dh));
            yield return (b + "attn.b_V", Layout.HeadBias(w.TryGet(p + "self_attn.v_proj.bias"), kv, dh));
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "self_attn.o_proj.weight"), h, dh, d));
            yield return (b + "attn.b_O", Layout.ZerosOr(w.TryGet(p + "self_attn.o_proj.bias"), d));
            yield return (b + "mlp.W_gate", Layout.In(w.Get(p + "mlp.gate_proj.weight")));
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "mlp.up_proj.weight")));
            yield return (b + "mlp.b_in", Layout.ZerosOr(w.TryGet(p + "mlp.up_proj.bias"), c.DMlp));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "mlp.down_proj.weight")));
            yield return (b + "mlp.b_out", Layout.ZerosOr(w.TryGet(p + "mlp.down_proj.bias"), d));
        }
        yield return ("ln_final.w", Norm("model.norm.weight"));
        yield return ("unembed.W_U", Layout.In(w.TryGet("lm_head.weight") ?? embed));
        yield return ("unembed.b_U", Tensor.Zeros([c.VocabOut]));
    }
}
