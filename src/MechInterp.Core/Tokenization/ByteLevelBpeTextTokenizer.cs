using Microsoft.ML.Tokenizers;

namespace MechInterp;

/// <summary>
/// Byte-level BPE (GPT-2, GPT-NeoX/Pythia, Qwen2, Llama 3 style) from <c>vocab.json</c> + <c>merges.txt</c> or
/// from a Hugging Face <c>tokenizer.json</c>, run by Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>.
/// Added tokens (<c>&lt;|endoftext|&gt;</c>, ...) in the input are kept whole.
/// </summary>
public sealed class ByteLevelBpeTextTokenizer : TextTokenizer
{
    private readonly BpeTokenizer _tokenizer;
    private readonly IReadOnlyDictionary<string, int> _vocabulary;
    private readonly bool _addPrefixSpace;

    private ByteLevelBpeTextTokenizer(BpeModelFiles files, HfTokenizerSettings settings, string source)
    {
        var vocabulary = new Dictionary<string, int>(files.Vocabulary, StringComparer.Ordinal);
        foreach (var (content, id) in files.AddedTokens)
        {
            vocabulary[content] = id;
        }

        var options = new BpeOptions(vocabulary)
        {
            Merges = files.Merges,
            ByteLevel = true,
            PreTokenizer = new SplitPreTokenizer(files.Patterns, files.AddedTokens.Keys),
            SpecialTokens = files.AddedTokens.Count == 0 ? null : files.AddedTokens,
            UnknownToken = files.UnknownToken,
        };
        if (files.NormalizerSteps.Count > 0)
        {
            options.Normalizer = new UnicodeNormalizer(files.NormalizerSteps);
        }

        try
        {
            _tokenizer = BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException(
                $"the BPE vocabulary and merges of {source} do not fit together ({e.Message}); every merge must join " +
                "two vocabulary tokens into a vocabulary token. Re-download the tokenizer files.", e);
        }

        _vocabulary = vocabulary;
        _addPrefixSpace = files.AddPrefixSpace;
        VocabSize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        (BosTokenId, EosTokenId, PadTokenId, AddsBosByDefault) = settings.DecoderSpecials(Lookup);
    }

    /// <inheritdoc />
    public override int VocabSize { get; }

    /// <summary>
    /// Loads <c>vocab.json</c> and <c>merges.txt</c>; special tokens come from the optional
    /// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and <c>config.json</c> beside them.
    /// </summary>
    /// <param name="vocabPath">Path of <c>vocab.json</c>.</param>
    /// <param name="mergesPath">Path of <c>merges.txt</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed.</exception>
    public static ByteLevelBpeTextTokenizer FromVocabAndMerges(string vocabPath, string mergesPath)
    {
        RequireFile(vocabPath);
        RequireFile(mergesPath);
        var settings = HfTokenizerSettings.Read(Path.GetDirectoryName(Path.GetFullPath(vocabPath))!);
        return new ByteLevelBpeTextTokenizer(
            BpeModelFiles.FromVocabAndMerges(vocabPath, mergesPath, settings), settings, $"'{vocabPath}' + '{mergesPath}'");
    }

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose <c>model.type</c> is <c>"BPE"</c> with a ByteLevel
    /// pre-tokenizer or decoder; special tokens come from its <c>added_tokens</c> and the optional
    /// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c> and <c>config.json</c> beside it.
    /// </summary>
    /// <param name="tokenizerJsonPath">Path of <c>tokenizer.json</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The file describes another kind of tokenizer or an unsupported step.</exception>
    public static ByteLevelBpeTextTokenizer FromTokenizerJson(string tokenizerJsonPath)
    {
        RequireFile(tokenizerJsonPath);
        var json = HfTokenizerSettings.LoadJson(tokenizerJsonPath);
        var type = json["model"]?["type"]?.GetValue<string>();
        if (type is not (null or "BPE"))
        {
            throw new NotSupportedException(
                $"'{tokenizerJsonPath}' has model.type \"{type}\", not \"BPE\": use TextTokenizer.FromPretrained on its directory.");
        }

        var settings = HfTokenizerSettings.Read(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!);
        return new ByteLevelBpeTextTokenizer(
            BpeModelFiles.FromTokenizerJson(tokenizerJsonPath, json), settings, $"'{tokenizerJsonPath}'");
    }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_addPrefixSpace && !text.StartsWith(' '))
        {
            text = " " + text;
        }

        return _tokenizer.EncodeToIds(text);
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _tokenizer.Decode(ids, considerSpecialTokens: true);
    }

    /// <inheritdoc />
    public override int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _vocabulary.TryGetValue(token, out var id) ? id : base.TokenToId(token);
    }

    private int? Lookup(string token) => _vocabulary.TryGetValue(token, out var id) ? id : null;

    internal static void RequireFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"tokenizer file '{path}' does not exist; check the path.", path);
        }
    }
}
