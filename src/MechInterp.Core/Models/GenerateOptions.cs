namespace MechInterp;

/// <summary>Options of <see cref="HookedTransformer.Generate(Tensor, GenerateOptions?)"/>: greedy by default.</summary>
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
    /// <summary>Random source for sampling (seeded for reproducibility).</summary>
    public Generator? Generator { get; init; }
    /// <summary>Mask of the prompt [batch, pos] for left-padded batches.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>Prepend BOS to a text prompt (null = model default).</summary>
    public bool? PrependBos { get; init; }
}
