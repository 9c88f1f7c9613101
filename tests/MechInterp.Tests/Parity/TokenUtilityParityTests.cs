using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>TransformerLens's token helpers: to_single_str_token, to_str_tokens of a list, get_token_position,
/// utils.test_prompt and utils.lm_accuracy; expected values written by hand or computed in the test from one forward pass.</summary>
public sealed class TokenUtilityParityTests
{
    private static HookedTransformer Model()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        model.Tokenizer = new CharTokenizer();
        return model;
    }

    [Fact]
    public void StringsOfTokensAndPositions()
    {
        var model = Model();
        Assert.Equal("a", model.ToSingleStrToken((int)CharTokenizer.Id('a')));
        Assert.Equal([["<bos>", "a", "b"], ["<bos>", "c"]], model.ToStrTokens(["ab", "c"]));
        Assert.Equal(2, model.GetTokenPosition("b", "abcb"));
        Assert.Equal(4, model.GetTokenPosition("b", "abcb", TokenOccurrence.Last));
        Assert.Equal(1, model.GetTokenPosition("b", "abcb", prependBos: false));
        Assert.Throws<ArgumentException>(() => model.GetTokenPosition("z", "abcb"));
    }

    [Fact]
    public void TestPromptReportsRankLogitAndProbabilityOfEachAnswerToken()
    {
        var model = Model();
        var logits = model.Forward(model.ToTokens("abcd")).Select(1, 3).Reshape(-1).To(DType.Float64).ToArray<double>(); // predicts 'd'
        double target = logits[CharTokenizer.Id('d')];
        int rank = logits.Count(v => v > target);
        double max = logits.Max();
        double prob = Math.Exp(target - max) / logits.Sum(v => Math.Exp(v - max));
        var printed = new StringWriter();
        var results = model.TestPrompt("abc", "d", prependSpaceToAnswer: false, topK: 3, output: printed);
        var r = Assert.Single(results);
        Assert.Equal("d", r.Token);
        Assert.Equal(rank, r.Rank);
        Assert.Equal(target, r.Logit, 5);
        Assert.Equal(prob, r.Probability, 6);
        Assert.Equal(3, r.TopK.Count);
        Assert.Equal(logits.Max(), r.TopK[0].Logit, 5);
        Assert.Contains($"Rank: {rank}", printed.ToString());
        Assert.Equal(2, model.TestPrompt("abc", "d", printDetails: false).Count); // " d": a space token, then d
    }

    [Fact]
    public void LmAccuracyComparesArgmaxWithTheNextToken()
    {
        var tokens = Tensor.FromArray(new long[] { 5, 6, 7, 8 }, 1, 4);
        var logits = new float[4 * 10];
        logits[0 * 10 + 6] = 1; // predicts 6: right
        logits[1 * 10 + 0] = 1; // predicts 0 instead of 7: wrong
        logits[2 * 10 + 8] = 1; // predicts 8: right
        logits[3 * 10 + 2] = 1; // last position: not scored
        var l = Tensor.FromArray(logits, 1, 4, 10);
        Assert.Equal(2.0 / 3, HookedTransformer.LmAccuracy(l, tokens).Item<float>(), 6);
        Assert.Equal([1f, 0f, 1f], HookedTransformer.LmAccuracy(l, tokens, perToken: true).ToArray<float>());
    }
}
