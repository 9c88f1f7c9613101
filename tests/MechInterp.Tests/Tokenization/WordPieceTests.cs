using Xunit;

namespace MechInterp.Tests.Tokenization;

/// <summary>A hand-made BERT vocabulary; ids are line numbers, expected ids worked out by hand.</summary>
public class WordPieceTests
{
    private static readonly string[] VocabLines =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "un", "##aff", "##able", "play", "##ing", ",", "!", "cafe"];

    private static WordPieceTextTokenizer Load(TokenizerTestDirectory dir, string? tokenizerConfig = null)
    {
        if (tokenizerConfig is not null)
        {
            dir.Write("tokenizer_config.json", tokenizerConfig);
        }

        return WordPieceTextTokenizer.FromVocabFile(dir.Write("vocab.txt", string.Join("\n", VocabLines) + "\n"));
    }

    [Fact]
    public void Lower_cases_strips_accents_and_splits_into_word_pieces()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = Load(dir);

        // the | un ##aff ##able | play ##ing | , | cafe (é stripped) | !
        Assert.Equal(new[] { 5, 6, 7, 8, 9, 10, 11, 13, 12 }, tokenizer.Encode("The UnAffable PLAYING, café!"));
        Assert.Equal(new[] { 2, 5, 9, 10, 3 }, tokenizer.EncodeForModel("the playing"));
        Assert.Equal(new[] { 5, 9, 10 }, tokenizer.EncodeForModel("the playing", prependBos: false));
    }

    [Fact]
    public void Unknown_words_become_unk_as_a_whole()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = Load(dir);

        // "xyz" has no piece at all; "playx" has "play" but no "##x": the whole word is [UNK].
        Assert.Equal(new[] { 1, 5, 1 }, tokenizer.Encode("xyz the playx"));
    }

    [Fact]
    public void Do_lower_case_false_keeps_case()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = Load(dir, """{"do_lower_case": false}""");

        Assert.Equal(new[] { 1, 5 }, tokenizer.Encode("The the"));
    }

    [Fact]
    public void Special_ids_and_single_tokens()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = Load(dir);

        Assert.Equal(14, tokenizer.VocabSize);
        Assert.Equal(2, tokenizer.ClsTokenId);
        Assert.Equal(3, tokenizer.SepTokenId);
        Assert.Equal(0, tokenizer.PadTokenId);
        Assert.Equal(4, tokenizer.MaskTokenId);
        Assert.Equal(1, tokenizer.UnknownTokenId);
        Assert.Null(tokenizer.BosTokenId);
        Assert.False(tokenizer.AddsBosByDefault);
        Assert.Equal("##ing", tokenizer.IdToToken(10));
        Assert.Equal(10, tokenizer.TokenToId("##ing"));
        Assert.Equal("the unaffable playing", tokenizer.Decode([5, 6, 7, 8, 9, 10]));
    }

    [Fact]
    public void Missing_special_token_is_named()
    {
        using var dir = new TokenizerTestDirectory();
        var path = dir.Write("vocab.txt", "[PAD]\n[UNK]\nthe\n");

        var error = Assert.Throws<InvalidDataException>(() => WordPieceTextTokenizer.FromVocabFile(path));
        Assert.Contains("[CLS]", error.Message);
        Assert.Contains("[SEP]", error.Message);
    }
}
