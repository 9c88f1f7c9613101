namespace MechInterp;

/// <summary>What <see cref="HookedTransformer.Forward(Tensor, ForwardOptions?)"/> returns.</summary>
public enum ReturnType
{
    /// <summary>Logits [batch, pos, d_vocab].</summary>
    Logits,
    /// <summary>Next-token cross-entropy loss (mean, or per token with <see cref="ForwardOptions.LossPerToken"/>).</summary>
    Loss,
    /// <summary>Both (use <see cref="HookedTransformer.ForwardFull"/>).</summary>
    Both,
    /// <summary>Nothing (run only for hooks).</summary>
    None,
}

/// <summary>Options of a forward pass (TransformerLens's forward arguments).</summary>
public sealed record ForwardOptions
{
    /// <summary>What to return.</summary>
    public ReturnType ReturnType { get; init; } = ReturnType.Logits;
    /// <summary>Loss per token [batch, pos-1] instead of the mean.</summary>
    public bool LossPerToken { get; init; }
    /// <summary>[batch, pos] with 1 for real tokens and 0 for padding (left or right). With left padding, position
    /// ids count from each row's first real token, as in TransformerLens.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>Run from this layer: the input is then the residual stream [batch, pos, d_model] entering it (negative
    /// counts from the end, as TransformerLens's <c>start_at_layer=-1</c>).</summary>
    public int? StartAtLayer { get; init; }
    /// <summary>Stop before this layer and return the residual stream entering it (negative counts from the end).</summary>
    public int? StopAtLayer { get; init; }
    /// <summary>Prepend BOS when the input is text (null = the model's default).</summary>
    public bool? PrependBos { get; init; }
    /// <summary>Token positions when the input is a residual stream or a cache continuation (overrides the default 0..pos-1).</summary>
    public Tensor? Positions { get; init; }
    /// <summary>A key/value cache to read and extend (generation).</summary>
    public KeyValueCache? PastKeyValues { get; init; }
    /// <summary>Token ids for the loss when the input is a residual stream (StartAtLayer). For a
    /// <see cref="HookedEncoder"/>: the masked-LM labels (-100 = ignored), defaulting to the input tokens.</summary>
    public Tensor? Tokens { get; init; }
    /// <summary>Segment ids [batch, pos] (0 = sentence A, 1 = sentence B) for <see cref="HookedEncoder"/>; all 0 when
    /// null. Decoder models have no token types and reject this option.</summary>
    public Tensor? TokenTypeIds { get; init; }
}

/// <summary>Everything a forward pass can return.</summary>
/// <param name="Logits">Logits, unless stopped early or not requested.</param>
/// <param name="Loss">Loss when requested.</param>
/// <param name="Residual">The residual stream where the pass stopped (with StopAtLayer).</param>
public sealed record ForwardOutput(Tensor? Logits, Tensor? Loss, Tensor? Residual)
{
    /// <summary>The one tensor a single-result forward returns for <paramref name="returnType"/> (the residual when the
    /// pass stopped early; an empty tensor for <see cref="ReturnType.None"/>).</summary>
    internal Tensor Select(ReturnType returnType, Device device) => returnType switch
    {
        _ when Residual is not null => Residual,
        ReturnType.Loss => Loss!,
        ReturnType.None => Tensor.Zeros([0], device: device),
        _ => Logits!,
    };

    /// <summary>Rejects <see cref="ReturnType.Both"/> where one tensor is returned.</summary>
    internal static void RejectBoth(ForwardOptions options)
    {
        if (options.ReturnType == ReturnType.Both)
            throw new ArgumentException("ReturnType.Both returns two tensors: call ForwardFull(...) and read .Logits and .Loss");
    }
}
