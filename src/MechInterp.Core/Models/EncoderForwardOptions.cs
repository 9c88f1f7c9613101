namespace MechInterp;

/// <summary>Options of an encoder's forward pass (<see cref="HookedEncoder"/>): the ones every model takes
/// (<see cref="CommonForwardOptions"/>) and the encoder's own.</summary>
public sealed record EncoderForwardOptions : CommonForwardOptions
{
    /// <summary>Segment ids [batch, pos] (0 = sentence A, 1 = sentence B); all 0 when null.</summary>
    public Tensor? TokenTypeIds { get; init; }
    /// <summary>The masked-LM labels [batch, pos] for the loss (-100 = ignored); the input tokens when null.</summary>
    public Tensor? Labels { get; init; }

    /// <summary>The encoder's options for what came through <see cref="IHookedModel"/>: these options themselves, or the
    /// common ones of a plain <see cref="CommonForwardOptions"/>; a decoder's options are refused.</summary>
    internal static EncoderForwardOptions? From(CommonForwardOptions? options) => options switch
    {
        null => null,
        EncoderForwardOptions encoder => encoder,
        ForwardOptions => throw new ArgumentException("ForwardOptions (start layer, positions, key/value cache, BOS) are for a decoder (HookedTransformer); an encoder takes EncoderForwardOptions: pass new EncoderForwardOptions { ... } or the common CommonForwardOptions", nameof(options)),
        _ => new EncoderForwardOptions { ReturnType = options.ReturnType, LossPerToken = options.LossPerToken, AttentionMask = options.AttentionMask, StopAtLayer = options.StopAtLayer },
    };
}
