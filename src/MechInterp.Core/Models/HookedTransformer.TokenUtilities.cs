namespace MechInterp;

/// <summary>Which occurrence <see cref="HookedTransformer.GetTokenPosition(string, string, TokenOccurrence, bool?)"/> finds.</summary>
public enum TokenOccurrence
{
    /// <summary>The first occurrence (TransformerLens's mode="first").</summary>
    First,
    /// <summary>The last occurrence (mode="last").</summary>
    Last,
}

/// <summary>How the model ranks one answer token at its position (a row of TransformerLens's test_prompt output).</summary>
/// <param name="Token">The answer token's text.</param>
/// <param name="Rank">0 for the model's top choice; the number of tokens with a higher logit.</param>
/// <param name="Logit">The answer token's logit.</param>
/// <param name="Probability">Its softmax probability.</param>
/// <param name="TopK">The k most likely tokens there (text, logit, probability), best first.</param>
public sealed record AnswerTokenRank(string Token, int Rank, double Logit, double Probability, IReadOnlyList<(string Token, double Logit, double Probability)> TopK);

public sealed partial class HookedTransformer
{
    /// <summary>The text of one token id (TransformerLens's to_single_str_token).</summary>
    public string ToSingleStrToken(int token) => RequireTokenizer().IdToToken(token);

    /// <summary>The token texts of each text in <paramref name="texts"/> (TransformerLens's to_str_tokens of a list).</summary>
    public string[][] ToStrTokens(IReadOnlyList<string> texts, bool? prependBos = null) =>
        [.. texts.Select(t => ToStrTokens(t, prependBos))];

    /// <summary>The position of <paramref name="singleToken"/> (a string that is one token) in <paramref name="input"/>
    /// tokenised as the model does (TransformerLens's get_token_position).</summary>
    /// <exception cref="ArgumentException">The token does not occur.</exception>
    public int GetTokenPosition(string singleToken, string input, TokenOccurrence occurrence = TokenOccurrence.First, bool? prependBos = null) =>
        GetTokenPosition(ToSingleToken(singleToken), ToTokens(input, prependBos), occurrence);

    /// <summary>The position of the id <paramref name="token"/> in a [pos] or [1, pos] id tensor.</summary>
    /// <exception cref="ArgumentException">The tensor has more than one row, or the token does not occur.</exception>
    public int GetTokenPosition(int token, Tensor tokens, TokenOccurrence occurrence = TokenOccurrence.First)
    {
        if (tokens.Rank > 2 || (tokens.Rank == 2 && tokens.Shape[0] != 1))
            throw new ArgumentException($"GetTokenPosition needs one sequence ([pos] or [1, pos]), got {Tensor.ShapeString(tokens.Shape)}", nameof(tokens));
        var ids = tokens.Reshape(-1).ToArray<long>();
        int at = occurrence == TokenOccurrence.First ? Array.IndexOf(ids, (long)token) : Array.LastIndexOf(ids, (long)token);
        return at >= 0 ? at : throw new ArgumentException($"token {token} ('{ToSingleStrToken(token)}') does not occur in the input", nameof(token));
    }

    /// <summary>
    /// TransformerLens's utils.test_prompt: runs <paramref name="prompt"/> followed by <paramref name="answer"/> (a space
    /// prepended when <paramref name="prependSpaceToAnswer"/>), and for every answer token reports its rank, logit and
    /// probability at the position that predicts it and the <paramref name="topK"/> most likely tokens there. Prints
    /// them to <paramref name="output"/> (the console when null; nothing when <paramref name="printDetails"/> is false)
    /// and returns them.
    /// </summary>
    public IReadOnlyList<AnswerTokenRank> TestPrompt(string prompt, string answer, bool prependSpaceToAnswer = true, int topK = 10,
        bool printDetails = true, bool? prependBos = null, TextWriter? output = null)
    {
        var tok = RequireTokenizer();
        if (prependSpaceToAnswer && !answer.StartsWith(' ')) answer = " " + answer;
        var promptIds = ToTokens(prompt, prependBos).Reshape(-1).ToArray<long>();
        var answerIds = tok.Encode(answer).Select(i => (long)i).ToArray();
        long[] all = [.. promptIds, .. answerIds];
        using var _ = GradMode.NoGrad();
        var logits = Forward(Tensor.FromArray(all, 1, all.Length)).Reshape(all.Length, -1).To(DType.Float64).ToArray<double>(); // [pos * vocab]
        int vocab = Config.VocabOut;
        var results = new List<AnswerTokenRank>();
        for (int i = 0; i < answerIds.Length; i++)
        {
            var row = logits.AsSpan((promptIds.Length - 1 + i) * vocab, vocab);
            double max = double.NegativeInfinity;
            foreach (var v in row) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in row) sum += Math.Exp(v - max);
            double target = row[(int)answerIds[i]];
            int rank = 0;
            foreach (var v in row) if (v > target) rank++;
            int offset = (promptIds.Length - 1 + i) * vocab;
            double top = max, total = sum;
            var best = Enumerable.Range(0, vocab).OrderByDescending(j => logits[offset + j]).Take(topK)
                .Select(j => (tok.IdToToken(j), logits[offset + j], Math.Exp(logits[offset + j] - top) / total)).ToArray();
            results.Add(new AnswerTokenRank(tok.IdToToken((int)answerIds[i]), rank, target, Math.Exp(target - max) / sum, best));
        }
        if (printDetails) Print(output ?? Console.Out, promptIds, answerIds, results);
        return results;
    }

    private void Print(TextWriter w, long[] promptIds, long[] answerIds, List<AnswerTokenRank> results)
    {
        var tok = RequireTokenizer();
        w.WriteLine($"Tokenized prompt: [{string.Join(", ", promptIds.Select(i => $"'{tok.IdToToken((int)i)}'"))}]");
        w.WriteLine($"Tokenized answer: [{string.Join(", ", answerIds.Select(i => $"'{tok.IdToToken((int)i)}'"))}]");
        foreach (var r in results)
        {
            w.WriteLine($"Performance on answer token:\nRank: {r.Rank,-8} Logit: {r.Logit,5:F2} Prob: {r.Probability,6:P2} Token: |{r.Token}|");
            for (int k = 0; k < r.TopK.Count; k++)
                w.WriteLine($"Top {k}th token. Logit: {r.TopK[k].Logit,5:F2} Prob: {r.TopK[k].Probability,6:P2} Token: |{r.TopK[k].Token}|");
        }
        w.WriteLine($"Ranks of the answer tokens: [{string.Join(", ", results.Select(r => $"('{r.Token}', {r.Rank})"))}]");
    }

    /// <summary>Next-token accuracy (TransformerLens's utils.lm_accuracy): whether the argmax of logits [batch, pos, vocab]
    /// at each position is the token at the next position of <paramref name="tokens"/> [batch, pos]; the mean, or
    /// [batch, pos - 1] of 0/1 with <paramref name="perToken"/>.</summary>
    public static Tensor LmAccuracy(Tensor logits, Tensor tokens, bool perToken = false)
    {
        long pos = tokens.Shape[^1];
        var predicted = logits.Narrow(1, 0, pos - 1).ArgMax(-1);           // [batch, pos - 1]
        var next = tokens.To(DType.Int64).Narrow(1, 1, pos - 1);           // [batch, pos - 1]
        var hit = Tensor.Where(predicted == next.To(predicted.Device), Tensor.Ones([], DType.Float32, predicted.Device), Tensor.Zeros([], DType.Float32, predicted.Device));
        return perToken ? hit : hit.Mean();
    }
}
