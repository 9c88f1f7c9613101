namespace MechInterp.Analysis;

/// <summary>The attention patterns TransformerLens's head detector knows by name.</summary>
public enum HeadKind
{
    /// <summary>Each query attends to the position just before it (TransformerLens's "previous_token_head").</summary>
    PreviousToken,
    /// <summary>Each query attends to earlier positions holding the same token ("duplicate_token_head").</summary>
    DuplicateToken,
    /// <summary>Each query attends to the positions right after earlier copies of its token ("induction_head").</summary>
    Induction,
}

/// <summary>
/// Detection patterns [pos, pos] (1 where a head of that kind should attend from query row q to key column k, 0
/// elsewhere; lower triangular) built from one sequence of token ids, as TransformerLens's head detector builds them.
/// </summary>
public static class HeadDetectionPatterns
{
    /// <summary>The pattern of <paramref name="kind"/> for <paramref name="tokens"/> (ids of one sequence).</summary>
    public static float[,] For(HeadKind kind, IReadOnlyList<long> tokens) => kind switch
    {
        HeadKind.PreviousToken => PreviousToken(tokens.Count),
        HeadKind.DuplicateToken => DuplicateToken(tokens),
        HeadKind.Induction => Induction(tokens),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown head kind"),
    };

    /// <summary>1 at (q, q - 1) for q &gt;= 1.</summary>
    public static float[,] PreviousToken(int length)
    {
        var d = new float[length, length];
        for (int q = 1; q < length; q++) d[q, q - 1] = 1;
        return d;
    }

    /// <summary>1 at (q, k) for k &lt; q with tokens[k] == tokens[q] (the current token itself excluded).</summary>
    public static float[,] DuplicateToken(IReadOnlyList<long> tokens)
    {
        int n = tokens.Count;
        var d = new float[n, n];
        for (int q = 0; q < n; q++)
            for (int k = 0; k < q; k++)
                if (tokens[k] == tokens[q]) d[q, k] = 1;
        return d;
    }

    /// <summary>1 at (q, k) for 1 &lt;= k &lt;= q with tokens[k - 1] == tokens[q] and k - 1 &lt; q: the duplicate-token
    /// pattern shifted one key to the right (the token after an earlier copy of the current one).</summary>
    public static float[,] Induction(IReadOnlyList<long> tokens)
    {
        int n = tokens.Count;
        var d = new float[n, n];
        for (int q = 0; q < n; q++)
            for (int k = 1; k <= q; k++)
                if (tokens[k - 1] == tokens[q]) d[q, k] = 1;
        return d;
    }
}
