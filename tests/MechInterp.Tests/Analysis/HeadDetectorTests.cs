using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>TransformerLens's detect_head semantics on hand-built patterns with hand-computed scores.</summary>
public sealed class HeadDetectorTests
{
    private static readonly float[,] s_attention = { { 1, 0, 0 }, { 0.5f, 0.5f, 0 }, { 0.2f, 0.3f, 0.5f } };

    [Fact]
    public void DetectionPatternsMarkTheExpectedKeys()
    {
        long[] tokens = [0, 5, 6, 5, 6, 7];
        var previous = HeadDetectionPatterns.PreviousToken(6);
        var duplicate = HeadDetectionPatterns.DuplicateToken(tokens);
        var induction = HeadDetectionPatterns.Induction(tokens);
        static (int, int)[] Ones(float[,] m) => [.. from q in Enumerable.Range(0, m.GetLength(0)) from k in Enumerable.Range(0, m.GetLength(1)) where m[q, k] == 1 select (q, k)];
        Assert.Equal([(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)], Ones(previous));
        Assert.Equal([(3, 1), (4, 2)], Ones(duplicate));          // the second 5 and 6 see their first copies
        Assert.Equal([(3, 2), (4, 3)], Ones(induction));          // ... and attend to what followed them
        Assert.Equal(induction, HeadDetectionPatterns.For(HeadKind.Induction, tokens));
    }

    [Fact]
    public void InductionPatternCountsARepeatedCurrentTokenOnTheDiagonal()
    {
        // tokens[1] == tokens[2]: at q = 2 the key after the earlier copy is q itself, as in TransformerLens.
        var d = HeadDetectionPatterns.Induction([0, 4, 4]);
        Assert.Equal(1, d[2, 2]);
        Assert.Equal(0, d[2, 1]);
    }

    [Fact]
    public void MulScoreIsTheFractionOfAttentionOnThePattern()
    {
        var previous = HeadDetectionPatterns.PreviousToken(3);
        // (0.5 + 0.3) / 3 rows of attention
        Assert.Equal(0.8 / 3, HeadDetector.Similarity(s_attention, previous, false, false, HeadErrorMeasure.Mul), 6);
        // without key 0: total 0.5 + 0.8 = 1.3, matched 0.3
        Assert.Equal(0.3 / 1.3, HeadDetector.Similarity(s_attention, previous, true, false, HeadErrorMeasure.Mul), 6);
        // without key 0 and the diagonal: total 0.3, matched 0.3
        Assert.Equal(1.0, HeadDetector.Similarity(s_attention, previous, true, true, HeadErrorMeasure.Mul), 6);
    }

    [Fact]
    public void AbsScoreIsOneMinusTheRoundedMeanRowError()
    {
        var previous = HeadDetectionPatterns.PreviousToken(3);
        // |A - D| rows: 1, 0.5 + 0.5, 0.2 + 0.7 + 0.5 → 3.4 / 3 = 1.1333 → 1 - 1.133
        Assert.Equal(1 - 1.133, HeadDetector.Similarity(s_attention, previous, false, false, HeadErrorMeasure.Abs), 9);
        // without key 0: 0 + 0.5 + 1.2 = 1.7 / 3 = 0.5667 → 1 - 0.567
        Assert.Equal(1 - 0.567, HeadDetector.Similarity(s_attention, previous, true, false, HeadErrorMeasure.Abs), 9);
        // a perfect match scores 1
        Assert.Equal(1.0, HeadDetector.Similarity(previous, previous, false, false, HeadErrorMeasure.Abs), 9);
    }

    [Fact]
    public void ScoresEveryHeadOfACacheAndAveragesOverSequences()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        int n = 6, heads = model.Config.NHeads;
        // Layer 0: every head an exact previous-token head (q = 0 attends to itself); layer 1: uniform causal attention.
        var prev = new float[2 * heads * n * n];
        var uniform = new float[2 * heads * n * n];
        for (int s = 0; s < 2 * heads; s++)
            for (int q = 0; q < n; q++)
            {
                prev[(s * n + q) * n + Math.Max(0, q - 1)] = 1;
                for (int k = 0; k <= q; k++) uniform[(s * n + q) * n + k] = 1f / (q + 1);
            }
        var store = new Dictionary<string, Tensor>
        {
            [ActName.Pattern(0)] = Tensor.FromArray(prev, 2, heads, n, n),
            [ActName.Pattern(1)] = Tensor.FromArray(uniform, 2, heads, n, n),
        };
        using var cache = new ActivationCache(store, model);
        var tokens = Tensor.FromArray(new long[] { 0, 1, 2, 3, 4, 5, 0, 1, 1, 1, 1, 1 }, 2, n);

        var scores = HeadDetector.DetectHead(cache, tokens, HeadKind.PreviousToken).ToArray<double>();
        // layer 0: 5 of 6 rows on the previous token; layer 1: Σ_{q>=1} 1/(q+1) = 1/2+1/3+1/4+1/5+1/6 over 6 rows
        double uniformPrev = (1 / 2.0 + 1 / 3.0 + 1 / 4.0 + 1 / 5.0 + 1 / 6.0) / 6;
        for (int h = 0; h < heads; h++)
        {
            Assert.Equal(5 / 6.0, scores[h], 6);
            Assert.Equal(uniformPrev, scores[heads + h], 6);
        }
        // excluding BOS and the current token, the exact head scores 1 (rows 0 and 1 lose their only attention)
        Assert.Equal(1.0, HeadDetector.DetectHead(cache, tokens, HeadKind.PreviousToken, excludeBos: true, excludeCurrentToken: true).ToArray<double>()[0], 6);

        // duplicate tokens in sequence 2 only: rows q = 2..5 of "0 1 1 1 1 1" under uniform attention put (q-1)/(q+1) on
        // earlier 1s; sequence 1 has none. The score is the mean over the two sequences.
        double seq2 = (1 / 3.0 + 2 / 4.0 + 3 / 5.0 + 4 / 6.0) / 6;
        var dup = HeadDetector.DetectHead(cache, tokens, HeadKind.DuplicateToken, heads: [(1, 0)]).ToArray<double>();
        Assert.Equal((0 + seq2) / 2, dup[heads], 6);
        Assert.Equal(-1, dup[0]);          // heads not asked for
        Assert.Equal(-1, dup[heads + 1]);
    }

    [Fact]
    public void CustomPatternOnAFixtureModelMatchesTheNamedOne()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = HookTestUtil.Input("gpt2-tiny").Narrow(0, 0, 1); // [1, 12]
        var named = HeadDetector.DetectHead(model, tokens, HeadKind.PreviousToken, errorMeasure: HeadErrorMeasure.Abs);
        var p = HeadDetectionPatterns.PreviousToken(12);
        var flat = new float[144];
        for (int q = 0; q < 12; q++) for (int k = 0; k < 12; k++) flat[q * 12 + k] = p[q, k];
        var custom = HeadDetector.DetectHead(model, tokens, Tensor.FromArray(flat, 12, 12), errorMeasure: HeadErrorMeasure.Abs);
        Assert.Equal(named.ToArray<double>(), custom.ToArray<double>());
        Assert.Equal([model.Config.NLayers, (long)model.Config.NHeads], named.Shape);
        Assert.All(named.ToArray<double>(), s => Assert.InRange(s, -1, 1));
    }

    [Fact]
    public void RejectsAPatternThatLooksAhead()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = HookTestUtil.Input("gpt2-tiny").Narrow(0, 0, 1);
        var values = new float[144];
        values[1] = 1; // [0, 1]: the first query looking at the second key
        var ahead = Tensor.FromArray(values, 12, 12);
        var e = Assert.Throws<ArgumentException>(() => HeadDetector.DetectHead(model, tokens, ahead));
        Assert.Contains("lower triangular", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => HeadDetector.DetectHead(model, tokens, HeadKind.Induction, heads: [(5, 0)]));
    }
}
