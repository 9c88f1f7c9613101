namespace MechInterp;

/// <summary>How a block normalises its inputs (TransformerLens's normalization_type).</summary>
public enum NormalizationType
{
    /// <summary>No normalisation.</summary>
    None,
    /// <summary>LayerNorm with weight and bias.</summary>
    LN,
    /// <summary>LayerNorm without weights (weights folded into the next layer).</summary>
    LNPre,
    /// <summary>RMSNorm with weight.</summary>
    RMS,
    /// <summary>RMSNorm without weight (folded).</summary>
    RMSPre,
}

/// <summary>How positions enter the model (TransformerLens's positional_embedding_type).</summary>
public enum PositionalEmbeddingType
{
    /// <summary>A learned table added to the token embedding (hook_pos_embed).</summary>
    Standard,
    /// <summary>Rotary embeddings applied to queries and keys inside attention.</summary>
    Rotary,
}

/// <summary>Attention span of a layer.</summary>
public enum AttentionType
{
    /// <summary>Every earlier position.</summary>
    Global,
    /// <summary>Only the last <see cref="HookedTransformerConfig.WindowSize"/> positions, the current one included.</summary>
    Local,
}

/// <summary>
/// The architecture of a <see cref="HookedTransformer"/>, with TransformerLens's fields (PascalCase). Immutable;
/// built from a Hugging Face config.json by <see cref="HookedTransformer.FromPretrained(string, LoadOptions?)"/> or by hand.
/// </summary>
public sealed record HookedTransformerConfig
{
    /// <summary>Number of transformer blocks.</summary>
    public required int NLayers { get; init; }
    /// <summary>Residual stream width.</summary>
    public required int DModel { get; init; }
    /// <summary>Width of one attention head.</summary>
    public required int DHead { get; init; }
    /// <summary>Number of query heads.</summary>
    public required int NHeads { get; init; }
    /// <summary>Number of key/value heads (GQA/MQA); null means equal to <see cref="NHeads"/>.</summary>
    public int? NKeyValueHeads { get; init; }
    /// <summary>MLP hidden width (0 for attention-only models).</summary>
    public int DMlp { get; init; }
    /// <summary>Vocabulary size (input embedding rows).</summary>
    public required int DVocab { get; init; }
    /// <summary>Output vocabulary size; null means equal to <see cref="DVocab"/>.</summary>
    public int? DVocabOut { get; init; }
    /// <summary>Maximum context length.</summary>
    public required int NCtx { get; init; }
    /// <summary>MLP activation: "gelu" (exact), "gelu_new"/"gelu_pytorch_tanh" (tanh approx.), "relu", "silu", "solu_ln".</summary>
    public string ActFn { get; init; } = "gelu_new";
    /// <summary>True for attention-only models (no MLP).</summary>
    public bool AttnOnly { get; init; }
    /// <summary>Normalisation type.</summary>
    public NormalizationType NormalizationType { get; init; } = NormalizationType.LN;
    /// <summary>Normalisation epsilon.</summary>
    public double Eps { get; init; } = 1e-5;
    /// <summary>Positional embedding type.</summary>
    public PositionalEmbeddingType PositionalEmbeddingType { get; init; } = PositionalEmbeddingType.Standard;
    /// <summary>Number of rotated dims per head (rotary only); null means all of <see cref="DHead"/>.</summary>
    public int? RotaryDim { get; init; }
    /// <summary>Rotary base θ.</summary>
    public double RotaryBase { get; init; } = 10000;
    /// <summary>GPT-J style rotary (adjacent pairs) instead of NeoX/HF rotate-half.</summary>
    public bool RotaryAdjacentPairs { get; init; }
    /// <summary>Attention and MLP read the same residual and both add to it (GPT-J, NeoX, Phi).</summary>
    public bool ParallelAttnMlp { get; init; }
    /// <summary>Gated MLP (Llama/Gemma: down(act(gate(x)) * up(x))).</summary>
    public bool GatedMlp { get; init; }
    /// <summary>Divide attention scores by <see cref="AttnScale"/> (false for GPT-Neo).</summary>
    public bool UseAttnScale { get; init; } = true;
    /// <summary>Divisor of attention scores; null means sqrt(<see cref="DHead"/>).</summary>
    public double? AttnScale { get; init; }
    /// <summary>Soft cap of attention scores (Gemma 2); 0 disables.</summary>
    public double AttnScoresSoftCap { get; init; }
    /// <summary>Soft cap of the output logits (Gemma 2); 0 disables.</summary>
    public double OutputLogitsSoftCap { get; init; }
    /// <summary>Per-layer attention span; null means all global.</summary>
    public IReadOnlyList<AttentionType>? AttnTypes { get; init; }
    /// <summary>Window of local layers (keys per query, current included).</summary>
    public int? WindowSize { get; init; }
    /// <summary>Extra norms after attention and MLP, before the residual add (Gemma 2's ln1_post/ln2_post).</summary>
    public bool UseNormalizationBeforeAndAfter { get; init; }
    /// <summary>Multiply the token embedding by sqrt(d_model) (Gemma) — folded into W_E when loading.</summary>
    public bool ScaleEmbeddingBySqrtDModel { get; init; }
    /// <summary>Attention Q/K/V projections carry biases.</summary>
    public bool AttnBiases { get; init; } = true;
    /// <summary>Attention output projection carries a bias.</summary>
    public bool AttnOutBias { get; init; } = true;
    /// <summary>MLP projections carry biases.</summary>
    public bool MlpBiases { get; init; } = true;
    /// <summary>Unembedding carries a bias.</summary>
    public bool UnembedBias { get; init; }
    /// <summary>Compute and expose per-head outputs (attn.hook_result).</summary>
    public bool UseAttnResult { get; init; }
    /// <summary>Separate query/key/value inputs per head (hook_q_input, hook_k_input, hook_v_input).</summary>
    public bool UseSplitQkvInput { get; init; }
    /// <summary>Expose hook_attn_in (per-head attention input).</summary>
    public bool UseAttnIn { get; init; }
    /// <summary>Expose hook_mlp_in.</summary>
    public bool UseHookMlpIn { get; init; }
    /// <summary>Prepend BOS by default in ToTokens.</summary>
    public bool DefaultPrependBos { get; init; } = true;
    /// <summary>The Hugging Face architecture this came from (e.g. "GPT2LMHeadModel").</summary>
    public string? OriginalArchitecture { get; init; }
    /// <summary>Model name or path.</summary>
    public string? ModelName { get; init; }
    /// <summary>Encoder (bidirectional) instead of causal attention.</summary>
    public bool Bidirectional { get; init; }

    /// <summary>Key/value heads actually used.</summary>
    public int KvHeads => NKeyValueHeads ?? NHeads;
    /// <summary>Output vocabulary actually used.</summary>
    public int VocabOut => DVocabOut ?? DVocab;
    /// <summary>Rotated dims actually used.</summary>
    public int RotaryDims => RotaryDim ?? DHead;
    /// <summary>Divisor applied to attention scores.</summary>
    public double EffectiveAttnScale => UseAttnScale ? AttnScale ?? Math.Sqrt(DHead) : 1.0;
    /// <summary>Whether the MLP activation is gated.</summary>
    public bool HasMlp => !AttnOnly && DMlp > 0;

    /// <summary>The attention type of layer <paramref name="layer"/>.</summary>
    public AttentionType AttentionTypeOf(int layer) => AttnTypes is { } t && layer < t.Count ? t[layer] : AttentionType.Global;

    /// <summary>Checks internal consistency; throws naming the field.</summary>
    public void Validate()
    {
        void Positive(int v, string name) { if (v <= 0) throw new ArgumentException($"HookedTransformerConfig.{name} must be positive, got {v}"); }
        Positive(NLayers, nameof(NLayers)); Positive(DModel, nameof(DModel)); Positive(DHead, nameof(DHead));
        Positive(NHeads, nameof(NHeads)); Positive(DVocab, nameof(DVocab)); Positive(NCtx, nameof(NCtx));
        Positive(KvHeads, nameof(NKeyValueHeads));
        if (NHeads % KvHeads != 0)
            throw new ArgumentException($"NHeads ({NHeads}) must be a multiple of NKeyValueHeads ({KvHeads})");
        if (PositionalEmbeddingType == PositionalEmbeddingType.Rotary && (RotaryDims <= 0 || RotaryDims > DHead || RotaryDims % 2 != 0))
            throw new ArgumentException($"RotaryDim must be even and in 2..{DHead}, got {RotaryDims}");
        if (AttnTypes is { } types && types.Contains(AttentionType.Local) && WindowSize is not > 0)
            throw new ArgumentException("a local attention layer needs a positive WindowSize");
        if (!AttnOnly && DMlp <= 0) throw new ArgumentException($"DMlp must be positive unless AttnOnly, got {DMlp}");
    }
}
