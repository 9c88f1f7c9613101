using Xunit;

namespace MechInterp.Tests.Tokenization;

/// <summary>
/// A hand-made byte-level BPE ("Ġ" is the byte-level spelling of a space) whose expected ids are worked out by
/// hand from the merge order, written as vocab.json + merges.txt and as tokenizer.json.
/// </summary>
public class ByteLevelBpeTests
{
    private const string Vocab = """
        {"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "he": 8, "ll": 9, "hell": 10,
         "hello": 11, "Ġw": 12, "or": 13, "Ġwor": 14, "ld": 15, "Ġworld": 16, "!": 17, "<|endoftext|>": 18}
        """;

    // "Ġworld" is in the vocabulary but no merge makes it: BPE must give "Ġwor" + "ld", not the longest match.
    private static readonly string[] Merges = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d"];

    // hello -> he l l o -> he ll o -> hell o -> hello; " world" -> Ġw o r l d -> Ġw or l d -> Ġwor l d -> Ġwor ld.
    private static readonly int[] HelloWorldIds = [11, 14, 15, 17];

    private static string MergesTxt => "#version: 0.2\n" + string.Join("\n", Merges) + "\n";

    private static string TokenizerJson(bool arrayMerges, string preTokenizer = """{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""")
    {
        var merges = arrayMerges
            ? string.Join(", ", Merges.Select(m => "[\"" + m.Replace(" ", "\", \"") + "\"]"))
            : string.Join(", ", Merges.Select(m => "\"" + m + "\""));
        return $$"""
            {
              "version": "1.0",
              "added_tokens": [{"id": 18, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
              "normalizer": null,
              "pre_tokenizer": {{preTokenizer}},
              "post_processor": null,
              "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
              "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                        "fuse_unk": false, "byte_fallback": false, "vocab": {{Vocab}}, "merges": [{{merges}}]}
            }
            """;
    }

    [Fact]
    public void Vocab_and_merges_give_the_hand_computed_ids()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("special_tokens_map.json", """{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}""");
        var tokenizer = ByteLevelBpeTextTokenizer.FromVocabAndMerges(dir.Write("vocab.json", Vocab), dir.Write("merges.txt", MergesTxt));

        Assert.Equal(HelloWorldIds, tokenizer.Encode("hello world!"));
        Assert.Equal("hello world!", tokenizer.Decode(HelloWorldIds));
        Assert.Equal(new[] { 11, 18, 14, 15 }, tokenizer.Encode("hello<|endoftext|> world"));
        Assert.Equal(19, tokenizer.VocabSize);
        Assert.Equal(18, tokenizer.BosTokenId);
        Assert.Equal(18, tokenizer.EosTokenId);
        Assert.Equal(18, tokenizer.PadTokenId); // no pad_token: TransformerLens uses EOS
        Assert.True(tokenizer.AddsBosByDefault);
        Assert.Equal(new[] { 18, 11 }, tokenizer.EncodeForModel("hello"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Tokenizer_json_with_string_or_array_merges_gives_the_hand_computed_ids(bool arrayMerges)
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = ByteLevelBpeTextTokenizer.FromTokenizerJson(dir.Write("tokenizer.json", TokenizerJson(arrayMerges)));

        Assert.Equal(HelloWorldIds, tokenizer.Encode("hello world!"));
        Assert.Equal(new[] { 11, 18, 14, 15 }, tokenizer.Encode("hello<|endoftext|> world"));
        Assert.Equal("hello<|endoftext|> world", tokenizer.Decode([11, 18, 14, 15]));
    }

    [Fact]
    public void Single_tokens_show_decoded_text_and_look_up_either_spelling()
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = ByteLevelBpeTextTokenizer.FromTokenizerJson(dir.Write("tokenizer.json", TokenizerJson(false)));

        Assert.Equal(" wor", tokenizer.IdToToken(14));
        Assert.Equal(14, tokenizer.TokenToId(" wor"));
        Assert.Equal(14, tokenizer.TokenToId("Ġwor"));
        Assert.Null(tokenizer.TokenToId("xyz"));
    }

    [Fact]
    public void Add_prefix_space_prepends_a_space()
    {
        using var dir = new TokenizerTestDirectory();
        var json = TokenizerJson(false, """{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}""");
        var tokenizer = ByteLevelBpeTextTokenizer.FromTokenizerJson(dir.Write("tokenizer.json", json));

        Assert.Equal(new[] { 14, 15 }, tokenizer.Encode("world"));
    }

    [Fact]
    public void Special_tokens_come_from_tokenizer_config_and_config_json()
    {
        using var dir = new TokenizerTestDirectory();
        dir.Write("tokenizer.json", TokenizerJson(false));
        dir.Write("tokenizer_config.json", """{"add_bos_token": false, "eos_token": {"content": "<|endoftext|>", "special": true}, "pad_token": "!"}""");
        dir.Write("config.json", """{"bos_token_id": 3, "eos_token_id": [7, 8]}""");
        var tokenizer = ByteLevelBpeTextTokenizer.FromTokenizerJson(Path.Combine(dir.Path, "tokenizer.json"));

        Assert.Equal(3, tokenizer.BosTokenId); // no bos_token text: config.json's bos_token_id
        Assert.Equal(18, tokenizer.EosTokenId); // the configured text wins over config.json
        Assert.Equal(17, tokenizer.PadTokenId);
        Assert.False(tokenizer.AddsBosByDefault);
        Assert.Equal(new[] { 11 }, tokenizer.EncodeForModel("hello"));
    }

    // Merge order makes the pre-tokenization visible: "b 1" outranks "a b" and "1 2".
    private const string DigitsVocab = """{"a": 0, "b": 1, "1": 2, "2": 3, "ab": 4, "12": 5, "b1": 6}""";
    private const string DigitsMerges = """["b 1", "a b", "1 2"]""";

    private static string DigitsJson(string preTokenizer) => $$$"""
        {"added_tokens": [], "normalizer": null, "pre_tokenizer": {{{preTokenizer}}}, "decoder": {"type": "ByteLevel"},
         "model": {"type": "BPE", "vocab": {{{DigitsVocab}}}, "merges": {{{DigitsMerges}}}}}
        """;

    [Theory]
    // GPT-2 regex: "ab" | "12" -> [ab, 12].
    [InlineData("""{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}""", new[] { 4, 5 })]
    // No splitting: a b 1 2 -> a b1 2 (no further merge) -> [a, b1, 2].
    [InlineData("""{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}""", new[] { 0, 6, 3 })]
    // Split on single digits, isolated (the text between matches is kept): "ab" | "1" | "2".
    [InlineData("""{"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "\\d"}, "behavior": "Isolated", "invert": false}, {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}]}""", new[] { 4, 2, 3 })]
    public void Pre_tokenizer_from_tokenizer_json_is_honoured(string preTokenizer, int[] expected)
    {
        using var dir = new TokenizerTestDirectory();
        var tokenizer = ByteLevelBpeTextTokenizer.FromTokenizerJson(dir.Write("tokenizer.json", DigitsJson(preTokenizer)));

        Assert.Equal(expected, tokenizer.Encode("ab12"));
        Assert.Equal("ab12", tokenizer.Decode(expected));
    }

    [Fact]
    public void Unsupported_pre_tokenizer_is_named()
    {
        using var dir = new TokenizerTestDirectory();
        var path = dir.Write("tokenizer.json", DigitsJson("""{"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": true}, {"type": "ByteLevel"}]}"""));

        var error = Assert.Throws<NotSupportedException>(() => ByteLevelBpeTextTokenizer.FromTokenizerJson(path));
        Assert.Contains("'Digits'", error.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var error = Assert.Throws<FileNotFoundException>(() => ByteLevelBpeTextTokenizer.FromTokenizerJson("/nonexistent/tokenizer.json"));
        Assert.Contains("/nonexistent/tokenizer.json", error.Message);
    }
}
