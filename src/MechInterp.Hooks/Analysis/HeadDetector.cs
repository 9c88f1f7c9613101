namespace MechInterp.Analysis;

/// <summary>How <see cref="HeadDetector"/> compares an attention pattern with a detection pattern.</summary>
public enum HeadErrorMeasure
{
    /// <summary>Σ(A ⊙ D) / Σ A: the fraction of the head's attention (after the exclusions) that falls where the
    /// detection pattern D is 1 (TransformerLens's default "mul").</summary>
    Mul,
    /// <summary>1 − Σ|A − D| / pos, rounded to three decimals as TransformerLens does ("abs"): 1 for a perfect match, −1
    /// for a perfect mismatch; predicts the amounts of attention, not just where it goes.</summary>
    Abs,
}

/// <summary>
/// Scores every attention head for a kind of attention pattern (TransformerLens's <c>detect_head</c>): previous-token,
/// duplicate-token and induction heads, or any custom [pos, pos] pattern. For a head with pattern A [query, key] on a
/// sequence and a detection pattern D, the score is <see cref="HeadErrorMeasure.Mul"/> or
/// <see cref="HeadErrorMeasure.Abs"/>; attention to BOS (key 0) and to the current token (the diagonal) can be left
/// out. A batch of sequences scores each one with its own pattern and averages, as TransformerLens does for a list of
/// prompts. Heads not asked for score −1. One extension: <c>queries</c> scores only some query rows (e.g. the second
/// copy of a repeated segment, where an induction target exists); null scores every row, as TransformerLens does.
/// </summary>
/// <example><code>
/// var scores = HeadDetector.DetectHead(model, tokens, HeadKind.Induction); // [n_layers, n_heads]
/// </code></example>
public static class HeadDetector
{
    /// <summary>Runs <paramref name="model"/> on <paramref name="tokens"/> ([pos] or [batch, pos]) caching only the
    /// attention patterns and scores every head (or those in <paramref name="heads"/>) for <paramref name="kind"/>.
    /// Returns [n_layers, n_heads] (float64, CPU).</summary>
    public static Tensor DetectHead(IHookedModel model, Tensor tokens, HeadKind kind, IEnumerable<(int Layer, int Head)>? heads = null,
        bool excludeBos = false, bool excludeCurrentToken = false, HeadErrorMeasure errorMeasure = HeadErrorMeasure.Mul, Range? queries = null)
    {
        var rows = TokenRows(tokens);
        using var cache = RunPatterns(model, tokens);
        return Score(model.Config, cache, rows.Select(r => HeadDetectionPatterns.For(kind, r)).ToList(), heads, excludeBos, excludeCurrentToken, errorMeasure, queries);
    }

    /// <summary>Scores every head against a custom <paramref name="detectionPattern"/> [pos, pos] (lower triangular;
    /// the same pattern for every sequence of <paramref name="tokens"/>).</summary>
    public static Tensor DetectHead(IHookedModel model, Tensor tokens, Tensor detectionPattern, IEnumerable<(int Layer, int Head)>? heads = null,
        bool excludeBos = false, bool excludeCurrentToken = false, HeadErrorMeasure errorMeasure = HeadErrorMeasure.Mul, Range? queries = null)
    {
        var rows = TokenRows(tokens);
        var pattern = ToMatrix(detectionPattern, rows[0].Length, errorMeasure);
        using var cache = RunPatterns(model, tokens);
        return Score(model.Config, cache, Enumerable.Repeat(pattern, rows.Count).ToList(), heads, excludeBos, excludeCurrentToken, errorMeasure, queries);
    }

    /// <summary>Scores the heads from a cache that holds every layer's <c>hook_pattern</c> for <paramref name="tokens"/>
    /// (the tokens the cache was made from: [pos] or [batch, pos]).</summary>
    public static Tensor DetectHead(ActivationCache cache, Tensor tokens, HeadKind kind, IEnumerable<(int Layer, int Head)>? heads = null,
        bool excludeBos = false, bool excludeCurrentToken = false, HeadErrorMeasure errorMeasure = HeadErrorMeasure.Mul, Range? queries = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var rows = TokenRows(tokens);
        return Score(cache.Model.Config, cache, rows.Select(r => HeadDetectionPatterns.For(kind, r)).ToList(), heads, excludeBos, excludeCurrentToken, errorMeasure, queries);
    }

    /// <summary>The score of one attention pattern A [query, key] against a detection pattern D of the same shape.</summary>
    public static double Similarity(float[,] attention, float[,] detection, bool excludeBos, bool excludeCurrentToken, HeadErrorMeasure errorMeasure, Range? queries = null)
    {
        int n = attention.GetLength(0);
        var (first, count) = (queries ?? ..).GetOffsetAndLength(n);
        if (attention.GetLength(1) != n || detection.GetLength(0) != n || detection.GetLength(1) != n)
            throw new ArgumentException($"attention [{attention.GetLength(0)}, {attention.GetLength(1)}] and detection [{detection.GetLength(0)}, {detection.GetLength(1)}] patterns must both be [pos, pos]");
        bool Skipped(int q, int k) => (excludeBos && k == 0) || (excludeCurrentToken && q == k);
        if (errorMeasure == HeadErrorMeasure.Mul)
        {
            double matched = 0, total = 0;
            for (int q = first; q < first + count; q++)
                for (int k = 0; k < n; k++)
                {
                    if (Skipped(q, k)) continue;
                    matched += attention[q, k] * detection[q, k];
                    total += attention[q, k];
                }
            return matched / total;
        }
        double error = 0;
        for (int q = first; q < first + count; q++)
            for (int k = 0; k < n; k++)
                if (!Skipped(q, k)) error += Math.Abs(attention[q, k] - detection[q, k]);
        return 1 - Math.Round(error / count, 3, MidpointRounding.ToEven);
    }

    private static Tensor Score(HookedTransformerConfig cfg, ActivationCache cache, IReadOnlyList<float[,]> detections,
        IEnumerable<(int Layer, int Head)>? heads, bool excludeBos, bool excludeCurrentToken, HeadErrorMeasure measure, Range? queries)
    {
        var selected = heads?.ToList() ?? [.. from l in Enumerable.Range(0, cfg.NLayers) from h in Enumerable.Range(0, cfg.NHeads) select (l, h)];
        foreach (var (l, h) in selected)
            if (l < 0 || l >= cfg.NLayers || h < 0 || h >= cfg.NHeads)
                throw new ArgumentOutOfRangeException(nameof(heads), $"head ({l}, {h}) does not exist: the model has layers 0..{cfg.NLayers - 1} and heads 0..{cfg.NHeads - 1}");
        var scores = new double[cfg.NLayers * cfg.NHeads];
        Array.Fill(scores, -1);
        foreach (var layer in selected.GroupBy(s => s.Layer))
        {
            var pattern = cache["pattern", layer.Key]; // [batch, head, query, key] (or [head, query, key] without a batch dim)
            long b = cache.HasBatchDim ? pattern.Shape[0] : 1, heads_ = pattern.Shape[^3], n = pattern.Shape[^1];
            if (b != detections.Count || n != detections[0].GetLength(0))
                throw new ArgumentException($"the cached pattern of layer {layer.Key} is {Tensor.ShapeString(pattern.Shape)} but the tokens give {detections.Count} sequence(s) of {detections[0].GetLength(0)}: pass the tokens the cache was made from");
            var values = pattern.To(Device.Cpu).To(DType.Float32).Contiguous().ToArray<float>();
            foreach (var (_, h) in layer)
            {
                double sum = 0;
                for (int s = 0; s < b; s++)
                {
                    var a = new float[n, n];
                    long offset = (s * heads_ + h) * n * n;
                    for (int q = 0; q < n; q++)
                        for (int k = 0; k < n; k++) a[q, k] = values[offset + q * n + k];
                    sum += Similarity(a, detections[s], excludeBos, excludeCurrentToken, measure, queries);
                }
                scores[layer.Key * cfg.NHeads + h] = sum / b;
            }
        }
        return Tensor.FromArray(scores, cfg.NLayers, cfg.NHeads);
    }

    private static ActivationCache RunPatterns(IHookedModel model, Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        long n = tokens.Shape[^1];
        if (n < 2 || n > model.Config.NCtx)
            throw new ArgumentException($"head detection needs a sequence of 2..{model.Config.NCtx} tokens (the model's context), got {n}", nameof(tokens));
        var input = tokens.Rank == 1 ? tokens.Unsqueeze(0) : tokens;
        var (logits, cache) = model.RunWithCache(input, name => name.EndsWith(".attn.hook_pattern", StringComparison.Ordinal));
        logits.Dispose();
        return cache;
    }

    private static List<long[]> TokenRows(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Rank is not (1 or 2))
            throw new ArgumentException($"tokens must be [pos] or [batch, pos], got {Tensor.ShapeString(tokens.Shape)}", nameof(tokens));
        var ids = tokens.To(Device.Cpu).To(DType.Int64).Contiguous().ToArray<long>();
        int n = (int)tokens.Shape[^1];
        return Enumerable.Range(0, ids.Length / n).Select(r => ids.AsSpan(r * n, n).ToArray()).ToList();
    }

    private static float[,] ToMatrix(Tensor pattern, int n, HeadErrorMeasure measure)
    {
        if (pattern.Rank != 2 || pattern.Shape[0] != n || pattern.Shape[1] != n)
            throw new ArgumentException($"the detection pattern must be [pos, pos] = [{n}, {n}] for these tokens, got {Tensor.ShapeString(pattern.Shape)}", nameof(pattern));
        var v = pattern.To(Device.Cpu).To(DType.Float32).Contiguous().ToArray<float>();
        var m = new float[n, n];
        for (int q = 0; q < n; q++)
            for (int k = 0; k < n; k++)
            {
                m[q, k] = v[q * n + k];
                if (k > q && m[q, k] != 0)
                    throw new ArgumentException($"the detection pattern must be lower triangular (a causal head never attends ahead), but entry [{q}, {k}] is {m[q, k]}", nameof(pattern));
            }
        _ = measure; // "mul" with values other than 0/1 is allowed (TransformerLens only warns); the score is then a weighted fraction
        return m;
    }
}
