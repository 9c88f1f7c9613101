namespace MechInterp;

/// <summary>Turns a list of texts into what a forward pass of either model kind takes: padded token ids and forward
/// options carrying the attention mask derived from the padding (and, for an encoder, the token types).</summary>
internal static class TextBatch
{
    /// <summary>Token ids [batch, pos] and <paramref name="options"/> with the padding's attention mask (unless it sets one).</summary>
    public static (Tensor Tokens, ForwardOptions Options) Prepare(IHookedModel model, IReadOnlyList<string> texts, ForwardOptions? options)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= new ForwardOptions();
        switch (model)
        {
            case HookedTransformer decoder:
            {
                var (tokens, mask) = decoder.ToTokens(texts, options.PrependBos);
                return (tokens, options with { AttentionMask = options.AttentionMask ?? mask });
            }
            case HookedEncoder encoder:
            {
                var (tokens, types, mask) = encoder.ToTokens(texts);
                return (tokens, options with { AttentionMask = options.AttentionMask ?? mask, TokenTypeIds = options.TokenTypeIds ?? types });
            }
            default:
                throw new NotSupportedException($"a list of texts needs a tokenising model (HookedTransformer or HookedEncoder), not {model.GetType().Name}: tokenise the texts yourself and pass the ids with ForwardOptions.AttentionMask");
        }
    }
}
