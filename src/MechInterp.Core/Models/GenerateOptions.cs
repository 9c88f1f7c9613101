namespace MechInterp;

/// <summary>Options of <see cref="HookedTransformer.Generate(Tensor, GenerateOptions?)"/>: greedy by default (TransformerLens
/// samples by default and stops at EOS by default; see docs/parity.md).</summary>
public sealed record GenerateOptions
{
    /// <summary>Tokens to add.</summary>
    public int MaxNewTokens { get; init; } = 10;
    /// <summary>Sample instead of taking the argmax.</summary>
    public bool DoSample { get; init; }
    /// <summary>Sampling temperature (DoSample only).</summary>
    public double Temperature { get; init; } = 1.0;
    /// <summary>Keep only the k most likely tokens when sampling.</summary>
    public int? TopK { get; init; }
    /// <summary>Nucleus sampling: keep the smallest set with cumulative probability ≥ p.</summary>
    public double? TopP { get; init; }
    /// <summary>Reuse keys and values of earlier tokens (much faster; same tokens).</summary>
    public bool UseKvCache { get; init; } = true;
    /// <summary>Stop a row once it produced the EOS token (then it is padded with EOS).</summary>
    public bool StopAtEos { get; init; }
    /// <summary>EOS id (defaults to the tokenizer's).</summary>
    public int? EosTokenId { get; init; }
    /// <summary>Several stop ids (TransformerLens's list-valued eos_token_id); overrides <see cref="EosTokenId"/>. A
    /// stopped row is padded with the tokenizer's EOS when it is one of them, else with the first.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }
    /// <summary>Subtracts <c>FreqPenalty × count</c> from each token's logit, counting the real tokens of the sequence so
    /// far (TransformerLens's freq_penalty; applied greedy or sampled, where TransformerLens applies it only when sampling).</summary>
    public double FreqPenalty { get; init; }
    /// <summary>Decoded text leaves out BOS, EOS and pad tokens (otherwise only the prepended BOS is left out, as in
    /// TransformerLens).</summary>
    public bool SkipSpecialTokens { get; init; }
    /// <summary>Random source for sampling (seeded for reproducibility).</summary>
    public Generator? Generator { get; init; }
    /// <summary>Mask of the prompt [batch, pos] for left-padded batches.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>Prepend BOS to a text prompt (null = model default).</summary>
    public bool? PrependBos { get; init; }
}
