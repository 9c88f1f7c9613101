namespace MechInterp;

public sealed partial class HookedEncoder
{
    private TextTokenizer RequireTokenizer() => Tokenizer ?? throw new InvalidOperationException(
        $"encoder '{Config.ModelName}' has no tokenizer (no vocab.txt or tokenizer.json next to config.json): set model.Tokenizer, e.g. WordPieceTextTokenizer.FromVocabFile(path)");

    /// <summary>Tokenises text as <c>[CLS] text [SEP]</c> into [1, pos] Int64 ids.</summary>
    public Tensor ToTokens(string text)
    {
        var ids = RequireTokenizer().EncodeForModel(text);
        return Tensor.FromArray(ids.Select(i => (long)i).ToArray(), 1, ids.Count).To(Device);
    }

    /// <summary>Tokenises several texts (each <c>[CLS] text [SEP]</c>) into [batch, pos], padded on the right with the
    /// pad id; returns the tokens, the token types (all 0) and the attention mask (1 = real token).</summary>
    public (Tensor Tokens, Tensor TokenTypeIds, Tensor AttentionMask) ToTokens(IReadOnlyList<string> texts)
    {
        var tok = RequireTokenizer();
        return Pack(texts.Select(t => (Ids: tok.EncodeForModel(t), SecondStart: int.MaxValue)).ToArray(), tok);
    }

    /// <summary>Tokenises a sentence pair as <c>[CLS] a [SEP] b [SEP]</c> with token types 0 for the first part and 1
    /// for <c>b [SEP]</c> (BERT's segment convention).</summary>
    public (Tensor Tokens, Tensor TokenTypeIds, Tensor AttentionMask) ToTokens(string sentenceA, string sentenceB)
    {
        var tok = RequireTokenizer() as WordPieceTextTokenizer ?? throw new InvalidOperationException(
            "sentence pairs need BERT's [CLS]/[SEP] template: set a WordPieceTextTokenizer as model.Tokenizer");
        var ids = new List<int> { tok.ClsTokenId };
        ids.AddRange(tok.Encode(sentenceA));
        ids.Add(tok.SepTokenId);
        int second = ids.Count;
        ids.AddRange(tok.Encode(sentenceB));
        ids.Add(tok.SepTokenId);
        return Pack([(ids, second)], tok);
    }

    private (Tensor, Tensor, Tensor) Pack((IReadOnlyList<int> Ids, int SecondStart)[] encoded, TextTokenizer tok)
    {
        if (encoded.Length == 0) throw new ArgumentException("give at least one text");
        int len = encoded.Max(e => e.Ids.Count);
        long pad = tok.PadTokenId ?? 0;
        var ids = new long[encoded.Length * len];
        var types = new long[encoded.Length * len];
        var mask = new long[encoded.Length * len];
        for (int b = 0; b < encoded.Length; b++)
        {
            for (int i = 0; i < len; i++) ids[b * len + i] = pad;
            for (int i = 0; i < encoded[b].Ids.Count; i++)
            {
                ids[b * len + i] = encoded[b].Ids[i];
                types[b * len + i] = i >= encoded[b].SecondStart ? 1 : 0;
                mask[b * len + i] = 1;
            }
        }
        return (Tensor.FromArray(ids, encoded.Length, len).To(Device), Tensor.FromArray(types, encoded.Length, len).To(Device),
            Tensor.FromArray(mask, encoded.Length, len).To(Device));
    }

    /// <summary>The text of each token of <paramref name="text"/> as the model sees it (<c>[CLS]</c> ... <c>[SEP]</c>).</summary>
    public string[] ToStrTokens(string text)
    {
        var tok = RequireTokenizer();
        return tok.EncodeForModel(text).Select(tok.IdToToken).ToArray();
    }

    /// <summary>The text of each token id in a 1-D (or [1, pos]) tensor.</summary>
    public string[] ToStrTokens(Tensor tokens)
    {
        var tok = RequireTokenizer();
        return tokens.Reshape(-1).To(Device.Cpu).ToArray<long>().Select(i => tok.IdToToken((int)i)).ToArray();
    }
}
