using Xunit;

namespace MechInterp.Tests.Tokenization;

public class FromPretrainedTests
{
    private const string ByteLevelJson = """
        {"added_tokens": [], "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
         "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}}
        """;

    private const string WordPieceJson = """
        {"added_tokens": [], "normalizer": {"type": "BertNormalizer", "lowercase": true},
         "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                   "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "ab": 5, "##c": 6}}}
        """;

    [Fact]
    public void Byte_level_tokenizer_json_is_chosen_first()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("tokenizer.json", ByteLevelJson);
        dir.Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");

        var tokenizer = TextTokenizer.FromPretrained(dir.Path);

        Assert.IsType<ByteLevelBpeTextTokenizer>(tokenizer);
        Assert.Equal(new[] { 2, 0 }, tokenizer.Encode("aba"));
    }

    [Fact]
    public void Vocab_json_and_merges_txt_give_byte_level_bpe()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("vocab.json", """{"a": 0, "b": 1, "ab": 2}""");
        dir.Write("merges.txt", "a b\n");

        Assert.IsType<ByteLevelBpeTextTokenizer>(TextTokenizer.FromPretrained(dir.Path));
    }

    [Fact]
    public void Tokenizer_model_gives_sentence_piece_even_beside_a_non_byte_level_tokenizer_json()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("tokenizer.json", """{"model": {"type": "BPE", "byte_fallback": true, "vocab": {"a": 0}, "merges": []}, "decoder": {"type": "Sequence", "decoders": [{"type": "Replace"}]}}""");
        dir.Write("tokenizer.model", SentencePieceModelWriter.Bpe([("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("▁", -1, 1), ("a", -1, 1)]));

        Assert.IsType<SentencePieceTextTokenizer>(TextTokenizer.FromPretrained(dir.Path));
    }

    [Fact]
    public void Vocab_txt_gives_word_piece()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nab\n");

        Assert.IsType<WordPieceTextTokenizer>(TextTokenizer.FromPretrained(dir.Path));
    }

    [Fact]
    public void Word_piece_tokenizer_json_without_vocab_txt_is_loaded_from_the_json()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("tokenizer.json", WordPieceJson);

        var tokenizer = Assert.IsType<WordPieceTextTokenizer>(TextTokenizer.FromPretrained(dir.Path));
        Assert.Equal(new[] { 2, 5, 6, 3 }, tokenizer.EncodeForModel("ABC"));
    }

    [Fact]
    public void A_sentence_piece_style_tokenizer_json_alone_asks_for_tokenizer_model()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("tokenizer.json", """{"model": {"type": "Unigram", "vocab": [["<unk>", 0.0]]}}""");

        var error = Assert.Throws<NotSupportedException>(() => TextTokenizer.FromPretrained(dir.Path));
        Assert.Contains("Unigram", error.Message);
        Assert.Contains("tokenizer.model", error.Message);
    }

    [Fact]
    public void A_directory_without_tokenizer_files_lists_what_was_looked_for()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("config.json", "{}");

        var error = Assert.Throws<TokenizerFilesNotFoundException>(() => TextTokenizer.FromPretrained(dir.Path));
        Assert.Contains(dir.Path, error.Message);
        foreach (var name in new[] { "tokenizer.json", "tokenizer.model", "vocab.json", "merges.txt", "vocab.txt" })
        {
            Assert.Contains(name, error.Message);
        }
    }

    [Fact]
    public void A_missing_directory_is_named()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => TextTokenizer.FromPretrained("/nonexistent/model-dir"));
        Assert.Contains("/nonexistent/model-dir", error.Message);
    }
}
