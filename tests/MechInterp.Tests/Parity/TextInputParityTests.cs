using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>Inputs as a TransformerLens notebook gives them: one string, a list of strings padded on the model's
/// padding side with the attention mask derived from the padding, truncation to n_ctx. Expected ids are written by
/// hand (<see cref="CharTokenizer"/>); padded logits are checked against each text run alone.</summary>
public sealed class TextInputParityTests
{
    private static HookedTransformer Model(string fixture)
    {
        var model = HookTestUtil.Load(fixture);
        model.Tokenizer = new CharTokenizer();
        return model;
    }

    private static long C(char c) => CharTokenizer.Id(c);

    [Fact]
    public void ListsArePaddedOnThePaddingSideWithTheirMask()
    {
        var model = Model("gpt2-tiny");
        Assert.Equal(PaddingSide.Right, model.PaddingSide); // TransformerLens's default
        const long B = CharTokenizer.Bos, P = CharTokenizer.Pad;
        var (right, rightMask) = model.ToTokens(["ab", "abcd"]);
        Assert.Equal([B, C('a'), C('b'), P, P, B, C('a'), C('b'), C('c'), C('d')], right.ToArray<long>());
        Assert.Equal([1L, 1, 1, 0, 0, 1, 1, 1, 1, 1], rightMask.ToArray<long>());
        var (left, leftMask) = model.ToTokens(["ab", "abcd"], paddingSide: PaddingSide.Left);
        Assert.Equal([P, P, B, C('a'), C('b'), B, C('a'), C('b'), C('c'), C('d')], left.ToArray<long>());
        Assert.Equal([0L, 0, 1, 1, 1, 1, 1, 1, 1, 1], leftMask.ToArray<long>());
        model.PaddingSide = PaddingSide.Left;
        Assert.Equal(left.ToArray<long>(), model.ToTokens(["ab", "abcd"]).Tokens.ToArray<long>());
        Assert.Equal([C('a'), C('b'), P, P], model.ToTokens(["ab", "abcd"], prependBos: false, paddingSide: PaddingSide.Right).Tokens.Narrow(0, 0, 1).ToArray<long>());
    }

    [Fact]
    public void TextsAreTruncatedToTheContextAsTransformerLensDoes()
    {
        var model = Model("gpt2-tiny"); // n_ctx 32
        var text = new string('x', 40);
        var kept = model.ToTokens(text);
        Assert.Equal([1L, 32], kept.Shape);
        Assert.Equal(CharTokenizer.Bos, kept.ToArray<long>()[0]);
        Assert.Equal([1L, 41], model.ToTokens(text, truncate: false).Shape);
        Assert.Equal([2L, 32], model.ToTokens([text, "a"]).Tokens.Shape);
    }

    [Theory]
    [InlineData("gpt2-tiny", PaddingSide.Right)]
    [InlineData("gpt2-tiny", PaddingSide.Left)]
    [InlineData("llama-tiny", PaddingSide.Right)]
    [InlineData("llama-tiny", PaddingSide.Left)]
    public void PaddedBatchesGiveEachTextsOwnLogits(string fixture, PaddingSide side)
    {
        var model = Model(fixture);
        model.PaddingSide = side;
        string[] texts = ["Hi there", "A much longer text"];
        var batch = model.Forward(texts); // [2, 19, vocab]
        long len = batch.Shape[1];
        for (int b = 0; b < texts.Length; b++)
        {
            var alone = model.Forward(texts[b]); // [1, n, vocab]
            long n = alone.Shape[1];
            long start = side == PaddingSide.Left ? len - n : 0;
            HookTestUtil.Close(batch.Narrow(0, b, 1).Narrow(1, start, n), alone, 1e-4, $"text {b} padded on the {side}");
        }

        var (logits, cache) = model.RunWithCache(texts);
        using (cache)
        {
            HookTestUtil.Close(logits, batch, 0, "RunWithCache on a list");
            Assert.Equal([2L, len, 64], cache["resid_pre", 0].Shape);
        }
        int calls = 0;
        var hooked = model.RunWithHooks(texts, new HookSpec("blocks.0.hook_resid_post", (x, h) => { calls++; return null; }));
        Assert.Equal(1, calls);
        HookTestUtil.Close(hooked, batch, 0, "RunWithHooks on a list");
    }
}
