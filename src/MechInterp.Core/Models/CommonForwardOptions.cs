namespace MechInterp;

/// <summary>
/// The forward options every hooked model takes, and what instruments pass through <see cref="IHookedModel"/>. Each
/// model kind has its own record on top: <see cref="ForwardOptions"/> for a decoder (<see cref="HookedTransformer"/>:
/// start layer, positions, key/value cache, BOS) and <see cref="EncoderForwardOptions"/> for an encoder
/// (<see cref="HookedEncoder"/>: token types, masked-LM labels), so a field one model cannot honour is not there to set.
/// </summary>
public record CommonForwardOptions
{
    /// <summary>What to return.</summary>
    public ReturnType ReturnType { get; init; } = ReturnType.Logits;
    /// <summary>Loss per token instead of the mean ([batch, pos-1] for a decoder's next-token loss, [batch, pos] for an
    /// encoder's masked-LM loss).</summary>
    public bool LossPerToken { get; init; }
    /// <summary>[batch, pos] with 1 for real tokens and 0 for padding. For a decoder with left padding, position ids
    /// count from each row's first real token, as in TransformerLens.</summary>
    public Tensor? AttentionMask { get; init; }
    /// <summary>Stop before this layer and return the residual stream entering it (negative counts from the end).</summary>
    public int? StopAtLayer { get; init; }
}
