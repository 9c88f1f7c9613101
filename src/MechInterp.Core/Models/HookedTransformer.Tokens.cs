namespace MechInterp;

public sealed partial class HookedTransformer
{
    private TextTokenizer RequireTokenizer() => Tokenizer ?? throw new InvalidOperationException(
        $"model '{Config.ModelName}' has no tokenizer (no tokenizer.json, vocab.json+merges.txt, tokenizer.model or vocab.txt next to config.json): set model.Tokenizer, e.g. TextTokenizer.Gpt2()");

    /// <summary>Tokenises text into [1, pos] Int64 ids, prepending BOS per <paramref name="prependBos"/> or the model's default.</summary>
    public Tensor ToTokens(string text, bool? prependBos = null)
    {
        var ids = RequireTokenizer().EncodeForModel(text, prependBos ?? Config.DefaultPrependBos);
        return Tensor.FromArray(ids.Select(i => (long)i).ToArray(), 1, ids.Count).To(Device);
    }

    /// <summary>Tokenises several texts into [batch, pos], padding on the right (or left) with the pad id; returns the
    /// tokens and the attention mask [batch, pos].</summary>
    public (Tensor Tokens, Tensor AttentionMask) ToTokens(IReadOnlyList<string> texts, bool? prependBos = null, bool padLeft = false)
    {
        var tok = RequireTokenizer();
        var encoded = texts.Select(t => tok.EncodeForModel(t, prependBos ?? Config.DefaultPrependBos)).ToArray();
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

    /// <summary>The id of a single-token string; throws when the string is not exactly one token.</summary>
    public int ToSingleToken(string token)
    {
        var ids = RequireTokenizer().Encode(token);
        if (ids.Count != 1) throw new ArgumentException($"'{token}' is {ids.Count} tokens, not one");
        return ids[0];
    }
}
