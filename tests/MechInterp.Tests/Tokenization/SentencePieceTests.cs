using Xunit;

namespace MechInterp.Tests.Tokenization;

/// <summary>
/// A hand-made SentencePiece BPE model: pieces merge by highest score, "▁" marks a space (and the dummy prefix).
/// Expected ids are worked out by hand.
/// </summary>
public class SentencePieceTests
{
    private static readonly (string, float, int)[] Pieces =
    [
        ("<unk>", 0, SentencePieceModelWriter.Unknown), // 0
        ("<s>", 0, SentencePieceModelWriter.Control), // 1
        ("</s>", 0, SentencePieceModelWriter.Control), // 2
        ("▁", -100, SentencePieceModelWriter.Normal), // 3
        ("h", -100, SentencePieceModelWriter.Normal), // 4
        ("e", -100, SentencePieceModelWriter.Normal), // 5
        ("l", -100, SentencePieceModelWriter.Normal), // 6
        ("o", -100, SentencePieceModelWriter.Normal), // 7
        ("w", -100, SentencePieceModelWriter.Normal), // 8
        ("r", -100, SentencePieceModelWriter.Normal), // 9
        ("d", -100, SentencePieceModelWriter.Normal), // 10
        ("ll", -1, SentencePieceModelWriter.Normal), // 11
        ("he", -2, SentencePieceModelWriter.Normal), // 12
        ("▁he", -3, SentencePieceModelWriter.Normal), // 13
        ("llo", -4, SentencePieceModelWriter.Normal), // 14
        ("▁hello", -5, SentencePieceModelWriter.Normal), // 15
        ("▁w", -6, SentencePieceModelWriter.Normal), // 16
        ("or", -7, SentencePieceModelWriter.Normal), // 17
        ("▁wor", -8, SentencePieceModelWriter.Normal), // 18
        ("ld", -9, SentencePieceModelWriter.Normal), // 19
    ];

    private static SentencePieceTextTokenizer Load(TokenizerTestDirectory dir) =>
        SentencePieceTextTokenizer.FromModelFile(dir.Write("tokenizer.model", SentencePieceModelWriter.Bpe(Pieces)));

    [Fact]
    public void Merges_by_score_with_a_dummy_prefix()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = Load(dir);

        // ▁hello: ll > he > ▁he > llo > ▁hello.  ▁world: ▁w > or > ▁wor > ld, and "▁wor"+"ld" is no piece.
        Assert.Equal(new[] { 15, 18, 19 }, tokenizer.Encode("hello world"));
        Assert.Equal("hello world", tokenizer.Decode([15, 18, 19]));
        // "x" is no piece and byte fallback is off: <unk>.
        Assert.Equal(new[] { 15, 3, 0 }, tokenizer.Encode("hello x"));
    }

    [Fact]
    public void Bos_and_eos_come_from_the_model_and_bos_is_prepended()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = Load(dir);

        Assert.Equal(20, tokenizer.VocabSize);
        Assert.Equal(1, tokenizer.BosTokenId);
        Assert.Equal(2, tokenizer.EosTokenId);
        Assert.Equal(0, tokenizer.UnknownTokenId);
        Assert.True(tokenizer.AddsBosByDefault);
        Assert.Equal(new[] { 1, 15, 18, 19 }, tokenizer.EncodeForModel("hello world"));
        Assert.Equal(18, tokenizer.TokenToId("▁wor"));
        // As transformers decodes one Llama token: the leading "▁" of the first token is dropped.
        Assert.Equal("hello", tokenizer.IdToToken(15));
        Assert.Equal("ld", tokenizer.IdToToken(19));
    }

    [Fact]
    public void Add_bos_token_false_in_tokenizer_config_turns_bos_off()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("tokenizer_config.json", """{"add_bos_token": false, "bos_token": "<s>", "eos_token": "</s>"}""");
        var tokenizer = Load(dir);

        Assert.False(tokenizer.AddsBosByDefault);
        Assert.Equal(new[] { 15 }, tokenizer.EncodeForModel("hello"));
    }

    [Fact]
    public void A_file_that_is_not_a_model_is_named()
    {
        using var dir = new TokenizerTestDirectory();
        var path = dir.Write("tokenizer.model", "this is not a protobuf");

        var error = Assert.Throws<InvalidDataException>(() => SentencePieceTextTokenizer.FromModelFile(path));
        Assert.Contains(path, error.Message);
    }
}
