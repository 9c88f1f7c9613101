namespace MechInterp;

/// <summary>What <see cref="HookedTransformer.Forward(Tensor, ForwardOptions?)"/> returns.</summary>
public enum ReturnType
{
    /// <summary>Logits [batch, pos, d_vocab].</summary>
    Logits,
    /// <summary>Next-token cross-entropy loss (mean, or per token with <see cref="CommonForwardOptions.LossPerToken"/>).</summary>
    Loss,
    /// <summary>Both (use <see cref="HookedTransformer.ForwardFull"/>).</summary>
    Both,
    /// <summary>Nothing (run only for hooks).</summary>
    None,
}

/// <summary>Options of a decoder's forward pass (<see cref="HookedTransformer"/>; TransformerLens's forward arguments):
/// the ones every model takes (<see cref="CommonForwardOptions"/>) and the decoder's own.</summary>
public sealed record ForwardOptions : CommonForwardOptions
{
    /// <summary>Run from this layer: the input is then the residual stream [batch, pos, d_model] entering it (negative
    /// counts from the end, as TransformerLens's <c>start_at_layer=-1</c>).</summary>
    public int? StartAtLayer { get; init; }
    /// <summary>Prepend BOS when the input is text (null = the model's default).</summary>
    public bool? PrependBos { get; init; }
    /// <summary>Token positions when the input is a residual stream or a cache continuation (overrides the default 0..pos-1).</summary>
    public Tensor? Positions { get; init; }
    /// <summary>A key/value cache to read and extend (generation).</summary>
    public KeyValueCache? PastKeyValues { get; init; }
    /// <summary>Token ids for the loss when the input is a residual stream (StartAtLayer).</summary>
    public Tensor? Tokens { get; init; }

    /// <summary>The decoder's options for what came through <see cref="IHookedModel"/>: these options themselves, or the
    /// common ones of a plain <see cref="CommonForwardOptions"/>; an encoder's options are refused.</summary>
    internal static ForwardOptions? From(CommonForwardOptions? options) => options switch
    {
        null => null,
        ForwardOptions decoder => decoder,
        EncoderForwardOptions => throw new ArgumentException("EncoderForwardOptions (token types, masked-LM labels) are for a HookedEncoder; a decoder takes ForwardOptions: pass new ForwardOptions { ... } or the common CommonForwardOptions", nameof(options)),
        _ => new ForwardOptions { ReturnType = options.ReturnType, LossPerToken = options.LossPerToken, AttentionMask = options.AttentionMask, StopAtLayer = options.StopAtLayer },
    };
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
    internal static void RejectBoth(CommonForwardOptions options)
    {
        if (options.ReturnType == ReturnType.Both)
            throw new ArgumentException("ReturnType.Both returns two tensors: call ForwardFull(...) and read .Logits and .Loss");
    }
}
