using Xunit;

namespace MechInterp.Tests.Tokenization;

public class Gpt2TokenizerTests
{
    private static readonly TextTokenizer Gpt2 = TextTokenizer.Gpt2();

    [Fact]
    public void Encodes_the_known_gpt2_ids()
    {
        // Published GPT-2 ids for this sentence (also what tiktoken's "gpt2" encoding gives).
        Assert.Equal(new[] { 15496, 995, 11, 428, 318, 257, 1332, 13 }, Gpt2.Encode("Hello world, this is a test."));
    }

    [Theory]
    [InlineData("Hello world, this is a test.")]
    [InlineData("  multiple   spaces   and\ttabs  ")]
    [InlineData("line one\nline two\r\n\n\nend\n")]
    [InlineData("héllo wörld — naïve café, Ελληνικά, русский, 日本語, 한국어")]
    [InlineData("emoji 🙂👍🏽👨‍👩‍👧 and flags 🇫🇷")]
    [InlineData("It's 2024: I'll've done 12,345.67 things!!")]
    [InlineData("")]
    public void Round_trips_text(string text)
    {
        Assert.Equal(text, Gpt2.Decode(Gpt2.Encode(text)));
    }

    [Fact]
    public void Special_tokens_are_endoftext_as_in_transformer_lens()
    {
        Assert.Equal(50257, Gpt2.VocabSize);
        Assert.Equal(50256, Gpt2.BosTokenId);
        Assert.Equal(50256, Gpt2.EosTokenId);
        Assert.Equal(50256, Gpt2.PadTokenId);
        Assert.True(Gpt2.AddsBosByDefault);
        Assert.Equal(new[] { 50256, 15496, 995 }, Gpt2.EncodeForModel("Hello world"));
        Assert.Equal(new[] { 15496, 995 }, Gpt2.EncodeForModel("Hello world", prependBos: false));
        Assert.Equal(new[] { 64, 50256, 65 }, Gpt2.Encode("a<|endoftext|>b"));
    }

    [Fact]
    public void Single_tokens_show_their_decoded_text()
    {
        Assert.Equal(" world", Gpt2.IdToToken(995));
        Assert.Equal("Hello", Gpt2.IdToToken(15496));
        Assert.Equal("<|endoftext|>", Gpt2.IdToToken(50256));
        Assert.Equal(995, Gpt2.TokenToId(" world"));
        Assert.Equal(50256, Gpt2.TokenToId("<|endoftext|>"));
        Assert.Null(Gpt2.TokenToId(" no such single token in the vocabulary"));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2.IdToToken(50257));
        Assert.Contains("0..50256", error.Message);
    }
}
