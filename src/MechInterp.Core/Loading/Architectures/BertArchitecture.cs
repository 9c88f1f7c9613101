namespace MechInterp.Loading.Architectures;

/// <summary>
/// BERT (BertForMaskedLM, BertModel) for <see cref="HookedEncoder"/>: learned positions and token types, post-LN
/// blocks, nn.Linear weights [out, in], an MLM head tied to the word embeddings. Accepts the older
/// <c>LayerNorm.gamma/beta</c> names; pooler and next-sentence weights are not used.
/// </summary>
internal sealed class BertArchitecture : IArchitecture
{
    private const string HeadDense = "cls.predictions.transform.dense.weight";

    public IReadOnlyList<string> ClassNames { get; } = ["BertForMaskedLM", "BertModel", "BertForPreTraining"];
    public string[] Prefixes { get; } = ["bert."];

    public HookedTransformerConfig MapConfig(HfConfig hf)
    {
        int d = hf.Int("hidden_size"), h = hf.Int("num_attention_heads");
        if (d % h != 0) throw new InvalidDataException($"'{hf.Path}': hidden_size {d} is not a multiple of num_attention_heads {h}");
        var positions = hf.String("position_embedding_type") ?? "absolute";
        if (positions != "absolute")
            throw new NotSupportedException($"'{hf.Path}' sets position_embedding_type \"{positions}\"; HookedEncoder implements only \"absolute\" learned positions");
        hf.RejectIfSet("is_decoder", "BERT used as a causal decoder");
        hf.RejectIfSet("add_cross_attention", "cross-attention");
        return new HookedTransformerConfig
        {
            NLayers = hf.Int("num_hidden_layers"), DModel = d, NHeads = h, DHead = d / h,
            DMlp = hf.Int("intermediate_size"), DVocab = hf.Int("vocab_size"), NCtx = hf.Int("max_position_embeddings"),
            ActFn = hf.String("hidden_act") ?? "gelu", Eps = hf.Double(1e-12, "layer_norm_eps"),
            NormalizationType = NormalizationType.LN, PositionalEmbeddingType = PositionalEmbeddingType.Standard,
            Bidirectional = true, DefaultPrependBos = false, OriginalArchitecture = hf.Architecture,
        };
    }

    /// <summary>Number of token types (type_vocab_size, default 2).</summary>
    public static int TokenTypes(HfConfig hf) => hf.IntOr(2, "type_vocab_size")!.Value;

    /// <summary>Whether the checkpoint carries the masked-LM head.</summary>
    public static bool HasMlmHead(WeightSource w) => w.Has(HeadDense);

    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        int d = c.DModel, h = c.NHeads, dh = c.DHead;
        const string e = "bert.embeddings.";
        var wordEmbeddings = w.Get(e + "word_embeddings.weight");
        yield return ("embed.embed.W_E", wordEmbeddings);
        yield return ("embed.pos_embed.W_pos", w.Get(e + "position_embeddings.weight"));
        yield return ("embed.token_type_embed.W_token_type", w.Get(e + "token_type_embeddings.weight"));
        foreach (var t in LayerNorm(w, e + "LayerNorm", "embed.ln")) yield return t;
        for (int l = 0; l < c.NLayers; l++)
        {
            string p = $"bert.encoder.layer.{l}.", b = $"blocks.{l}.";
            string[] qkv = ["query", "key", "value"], names = ["Q", "K", "V"];
            for (int i = 0; i < 3; i++)
            {
                yield return (b + "attn.W_" + names[i], Layout.HeadsIn(w.Get(p + "attention.self." + qkv[i] + ".weight"), h, dh, d));
                yield return (b + "attn.b_" + names[i], w.Get(p + "attention.self." + qkv[i] + ".bias").Reshape(h, dh));
            }
            yield return (b + "attn.W_O", Layout.HeadsOut(w.Get(p + "attention.output.dense.weight"), h, dh, d));
            yield return (b + "attn.b_O", w.Get(p + "attention.output.dense.bias"));
            foreach (var t in LayerNorm(w, p + "attention.output.LayerNorm", b + "ln1")) yield return t;
            yield return (b + "mlp.W_in", Layout.In(w.Get(p + "intermediate.dense.weight")));
            yield return (b + "mlp.b_in", w.Get(p + "intermediate.dense.bias"));
            yield return (b + "mlp.W_out", Layout.In(w.Get(p + "output.dense.weight")));
            yield return (b + "mlp.b_out", w.Get(p + "output.dense.bias"));
            foreach (var t in LayerNorm(w, p + "output.LayerNorm", b + "ln2")) yield return t;
        }
        if (!HasMlmHead(w)) yield break;
        yield return ("mlm_head.W", w.Get(HeadDense));
        yield return ("mlm_head.b", w.Get("cls.predictions.transform.dense.bias"));
        foreach (var t in LayerNorm(w, "cls.predictions.transform.LayerNorm", "mlm_head.ln")) yield return t;
        // The decoder is tied to the word embeddings; a checkpoint may still store it (and its bias) explicitly.
        yield return ("unembed.W_U", (w.TryGet("cls.predictions.decoder.weight") ?? wordEmbeddings).T);
        yield return ("unembed.b_U", w.TryGet("cls.predictions.bias") ?? w.TryGet("cls.predictions.decoder.bias") ?? Tensor.Zeros([c.VocabOut]));
    }

    /// <summary>A LayerNorm's weight and bias under either naming (weight/bias or the older gamma/beta).</summary>
    private static IEnumerable<(string, Tensor)> LayerNorm(WeightSource w, string hf, string tl)
    {
        yield return (tl + ".w", w.TryGet(hf + ".weight") ?? w.Get(hf + ".gamma"));
        yield return (tl + ".b", w.TryGet(hf + ".bias") ?? w.Get(hf + ".beta"));
    }
}
