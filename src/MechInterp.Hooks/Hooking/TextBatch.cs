namespace MechInterp;

/// <summary>Turns a list of texts into what a forward pass of either model kind takes: padded token ids and forward
/// options carrying the attention mask derived from the padding (and, for an encoder, the token types).</summary>
internal static class TextBatch
{
    /// <summary>Token ids [batch, pos] and <paramref name="options"/> with the padding's attention mask (unless it sets one).</summary>
    public static (Tensor Tokens, CommonForwardOptions Options) Prepare(IHookedModel model, IReadOnlyList<string> texts, CommonForwardOptions? options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        switch (model)
        {
            case HookedTransformer decoder:
            {
                var own = ForwardOptions.From(options) ?? new ForwardOptions();
                var (tokens, mask) = decoder.ToTokens(texts, own.PrependBos);
                return (tokens, own with { AttentionMask = own.AttentionMask ?? mask });
            }
            case HookedEncoder encoder:
            {
                var own = EncoderForwardOptions.From(options) ?? new EncoderForwardOptions();
                var (tokens, types, mask) = encoder.ToTokens(texts);
                return (tokens, own with { AttentionMask = own.AttentionMask ?? mask, TokenTypeIds = own.TokenTypeIds ?? types });
            }
            default:
                throw new NotSupportedException($"a list of texts needs a tokenising model (HookedTransformer or HookedEncoder), not {model.GetType().Name}: tokenise the texts yourself and pass the ids with CommonForwardOptions.AttentionMask");
        }
    }
}
