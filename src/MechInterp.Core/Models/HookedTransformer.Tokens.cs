namespace MechInterp;

public sealed partial class HookedTransformer
{
    private TextTokenizer RequireTokenizer() => Tokenizer ?? throw new InvalidOperationException(
        $"model '{Config.ModelName}' has no tokenizer (no tokenizer.json, vocab.json+merges.txt, tokenizer.model or vocab.txt next to config.json): set model.Tokenizer, e.g. TextTokenizer.Gpt2()");

    /// <summary>Where <see cref="ToTokens(IReadOnlyList{string}, bool?, PaddingSide?, bool)"/> pads a batch of texts
    /// by default, and so every call that takes a list of texts (TransformerLens's <c>tokenizer.padding_side</c>;
    /// right by default, as there).</summary>
    public PaddingSide PaddingSide { get; set; } = PaddingSide.Right;

    /// <summary>Tokenises text into [1, pos] Int64 ids, prepending BOS per <paramref name="prependBos"/> or the model's
    /// default (<see cref="HookedTransformerConfig.DefaultPrependBos"/>); with <paramref name="truncate"/> (the default,
    /// as in TransformerLens) only the first n_ctx tokens are kept.</summary>
    public Tensor ToTokens(string text, bool? prependBos = null, bool truncate = true)
    {
        var ids = Truncate(RequireTokenizer().EncodeForModel(text, prependBos ?? Config.DefaultPrependBos), truncate);
        return Tensor.FromArray(ids.Select(i => (long)i).ToArray(), 1, ids.Count).To(Device);
    }

    private IReadOnlyList<int> Truncate(IReadOnlyList<int> ids, bool truncate) =>
        truncate && ids.Count > Config.NCtx ? ids.Take(Config.NCtx).ToArray() : ids;

    /// <summary>Tokenises several texts into [batch, pos], padding with the pad id (the EOS id when the tokenizer has no
    /// pad token) on <paramref name="paddingSide"/> (default <see cref="PaddingSide"/>); each text is first truncated to
    /// n_ctx tokens when <paramref name="truncate"/>. Returns the tokens and the attention mask [batch, pos] (1 = real).</summary>
    /// <exception cref="ArgumentException">The list is empty.</exception>
    public (Tensor Tokens, Tensor AttentionMask) ToTokens(IReadOnlyList<string> texts, bool? prependBos = null, PaddingSide? paddingSide = null, bool truncate = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) throw new ArgumentException("ToTokens needs at least one text", nameof(texts));
        var tok = RequireTokenizer();
        bool padLeft = (paddingSide ?? PaddingSide) == PaddingSide.Left;
        var encoded = texts.Select(t => Truncate(tok.EncodeForModel(t, prependBos ?? Config.DefaultPrependBos), truncate)).ToArray();
        int len = encoded.Max(e => e.Count);
        long pad = tok.PadTokenId ?? tok.EosTokenId ?? 0;
        var ids = new long[texts.Count * len];
        var mask = new long[texts.Count * len];
        for (int b = 0; b < encoded.Length; b++)
        {
            int offset = padLeft ? len - encoded[b].Count : 0;
            for (int i = 0; i < len; i++) ids[b * len + i] = pad;
            for (int i = 0; i < encoded[b].Count; i++)
            {
                ids[b * len + offset + i] = encoded[b][i];
                mask[b * len + offset + i] = 1;
            }
        }
        return (Tensor.FromArray(ids, texts.Count, len).To(Device), Tensor.FromArray(mask, texts.Count, len).To(Device));
    }

    /// <summary>The text of each token of <paramref name="text"/> (TransformerLens's to_str_tokens).</summary>
    public string[] ToStrTokens(string text, bool? prependBos = null)
    {
        var tok = RequireTokenizer();
        return tok.EncodeForModel(text, prependBos ?? Config.DefaultPrependBos).Select(tok.IdToToken).ToArray();
    }

    /// <summary>The text of each token id in a 1-D (or [1, pos]) tensor.</summary>
    public string[] ToStrTokens(Tensor tokens)
    {
        var tok = RequireTokenizer();
        return tokens.Reshape(-1).ToArray<long>().Select(i => tok.IdToToken((int)i)).ToArray();
    }

    /// <summary>Decodes ids back to text.</summary>
    public string ToString(Tensor tokens) => RequireTokenizer().Decode(tokens.Reshape(-1).ToArray<long>().Select(i => (int)i));

    /// <summary>The unembedding direction of each id in <paramref name="tokens"/>: [*tokens.Shape, d_model] (a [batch] or
    /// [batch, pos] tensor of ids gives [batch, d_model] or [batch, pos, d_model]; a scalar gives [d_model]).
    /// TransformerLens's tokens_to_residual_directions.</summary>
    public Tensor TokensToResidualDirections(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var ids = ModelInputs.PrepareTokens(tokens.Reshape(1, -1), Device, Config.VocabOut).Reshape(-1); // [n]
        var directions = W_U.IndexSelect(1, ids).T; // [n, d_model]
        return directions.Reshape([.. tokens.Shape, Config.DModel]);
    }

    /// <summary>The unembedding direction of one token id [d_model].</summary>
    public Tensor TokensToResidualDirections(int token) =>
        TokensToResidualDirections(Tensor.FromArray(new long[] { token }, 1)).Reshape(Config.DModel);

    /// <summary>The unembedding direction of a string that is one token [d_model] (see <see cref="ToSingleToken"/>).</summary>
    public Tensor TokensToResidualDirections(string token) => TokensToResidualDirections(ToSingleToken(token));

    /// <summary>The id of a single-token string; throws when the string is not exactly one token.</summary>
    public int ToSingleToken(string token)
    {
        var ids = RequireTokenizer().Encode(token);
        if (ids.Count != 1) throw new ArgumentException($"'{token}' is {ids.Count} tokens, not one");
        return ids[0];
    }
}
