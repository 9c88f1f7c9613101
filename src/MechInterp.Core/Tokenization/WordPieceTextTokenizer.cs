using System.Text;
using Microsoft.ML.Tokenizers;

namespace MechInterp;

/// <summary>
/// BERT's WordPiece from <c>vocab.txt</c> (one token per line, id = line number), run by Microsoft.ML.Tokenizers'
/// <see cref="BertTokenizer"/>: basic tokenization, lower-casing and accent stripping per
/// <c>tokenizer_config.json</c>'s <c>do_lower_case</c> / <c>strip_accents</c> (Hugging Face's defaults: lower-case,
/// strip accents when lower-casing), <c>##</c> continuations and <c>[UNK]</c>.
/// <see cref="EncodeForModel"/> wraps the text as <c>[CLS] text [SEP]</c>.
/// </summary>
public sealed class WordPieceTextTokenizer : TextTokenizer
{
    private readonly BertTokenizer _tokenizer;
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private WordPieceTextTokenizer(BertTokenizer tokenizer, string[] tokens, HfTokenizerSettings settings)
    {
        _tokenizer = tokenizer;
        _tokens = tokens;
        _ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            _ids.TryAdd(tokens[i], i);
        }

        ClsTokenId = tokenizer.ClassificationTokenId;
        SepTokenId = tokenizer.SeparatorTokenId;
        MaskTokenId = tokenizer.MaskingTokenId;
        UnknownTokenId = tokenizer.UnknownTokenId;
        PadTokenId = tokenizer.PaddingTokenId;
        BosTokenId = settings.ResolveId("bos_token", Lookup);
        EosTokenId = settings.ResolveId("eos_token", Lookup);
        AddsBosByDefault = false;
    }

    /// <inheritdoc />
    public override int VocabSize => _tokens.Length;

    /// <summary>Id of <c>[CLS]</c> (or the configured <c>cls_token</c>).</summary>
    public int ClsTokenId { get; }

    /// <summary>Id of <c>[SEP]</c> (or the configured <c>sep_token</c>).</summary>
    public int SepTokenId { get; }

    /// <summary>Id of <c>[MASK]</c> (or the configured <c>mask_token</c>).</summary>
    public int MaskTokenId { get; }

    /// <summary>Id of <c>[UNK]</c> (or the configured <c>unk_token</c>).</summary>
    public int UnknownTokenId { get; }

    /// <summary>Loads <c>vocab.txt</c>; settings are read from the optional <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> beside it.</summary>
    /// <param name="vocabPath">Path of <c>vocab.txt</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">A special token is missing from the vocabulary.</exception>
    public static WordPieceTextTokenizer FromVocabFile(string vocabPath)
    {
        ByteLevelBpeTextTokenizer.RequireFile(vocabPath);
        var settings = HfTokenizerSettings.Read(Path.GetDirectoryName(Path.GetFullPath(vocabPath))!);
        using var stream = File.OpenRead(vocabPath);
        return FromVocabStream(stream, settings, vocabPath);
    }

    /// <summary>Loads a <c>vocab.txt</c> from a stream (e.g. a resource), with Hugging Face's default BERT settings
    /// unless <paramref name="lowerCase"/> says otherwise.</summary>
    /// <param name="vocab">The <c>vocab.txt</c> content, UTF-8.</param>
    /// <param name="lowerCase">Whether to lower-case (and strip accents from) the input.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="InvalidDataException">A special token is missing from the vocabulary.</exception>
    public static WordPieceTextTokenizer FromVocabStream(Stream vocab, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        var settings = new HfTokenizerSettings();
        settings.DoLowerCase = lowerCase;
        return FromVocabStream(vocab, settings, "vocab.txt stream");
    }

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c> whose <c>model.type</c> is <c>"WordPiece"</c>; lower-casing follows
    /// <c>tokenizer_config.json</c>'s <c>do_lower_case</c>, else the file's BertNormalizer <c>lowercase</c>.
    /// </summary>
    /// <param name="tokenizerJsonPath">Path of <c>tokenizer.json</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is malformed or its ids are not 0..n-1.</exception>
    /// <exception cref="NotSupportedException">The file holds another kind of model.</exception>
    public static WordPieceTextTokenizer FromTokenizerJson(string tokenizerJsonPath)
    {
        ByteLevelBpeTextTokenizer.RequireFile(tokenizerJsonPath);
        var json = HfTokenizerSettings.LoadJson(tokenizerJsonPath);
        var type = json["model"]?["type"]?.GetValue<string>();
        if (type != "WordPiece")
        {
            throw new NotSupportedException(
                $"'{tokenizerJsonPath}' has model.type \"{type}\", not \"WordPiece\": use TextTokenizer.FromPretrained on its directory.");
        }

        var vocab = json["model"]?["vocab"] as System.Text.Json.Nodes.JsonObject
            ?? throw new InvalidDataException($"'{tokenizerJsonPath}' has no model.vocab; re-download the tokenizer files.");
        var tokens = new string?[vocab.Count];
        foreach (var (token, idNode) in vocab)
        {
            var id = idNode?.GetValue<int>() ?? -1;
            if ((uint)id >= (uint)tokens.Length || tokens[id] is not null)
            {
                throw new InvalidDataException(
                    $"'{tokenizerJsonPath}': token \"{token}\" has id {id}, but WordPiece ids must be 0..{tokens.Length - 1}, each once.");
            }

            tokens[id] = token;
        }

        var settings = HfTokenizerSettings.Read(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!);
        if (settings.DoLowerCase is null && json["normalizer"]?["lowercase"]?.GetValue<bool>() is bool lowercase)
        {
            settings.DoLowerCase = lowercase;
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', tokens)));
        return FromVocabStream(stream, settings, tokenizerJsonPath);
    }

    internal static WordPieceTextTokenizer FromVocabStream(Stream vocab, HfTokenizerSettings settings, string source)
    {
        var text = new StreamReader(vocab, Encoding.UTF8).ReadToEnd();
        var tokens = text.Split('\n').Select(t => t.TrimEnd('\r')).ToList();
        if (tokens.Count > 0 && tokens[^1].Length == 0)
        {
            tokens.RemoveAt(tokens.Count - 1);
        }

        var lowerCase = settings.DoLowerCase ?? true;
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            RemoveNonSpacingMarks = settings.StripAccents ?? lowerCase,
            IndividuallyTokenizeCjk = settings.TokenizeChineseChars ?? true,
            UnknownToken = settings.TokenText("unk_token") ?? "[UNK]",
            ClassificationToken = settings.TokenText("cls_token") ?? "[CLS]",
            SeparatorToken = settings.TokenText("sep_token") ?? "[SEP]",
            PaddingToken = settings.TokenText("pad_token") ?? "[PAD]",
            MaskingToken = settings.TokenText("mask_token") ?? "[MASK]",
        };
        var missing = new[] { options.UnknownToken, options.ClassificationToken, options.SeparatorToken, options.PaddingToken, options.MaskingToken }
            .Where(t => !tokens.Contains(t)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{source}: the vocabulary lacks the special token(s) {string.Join(", ", missing)}; " +
                "add them or set cls_token/sep_token/pad_token/mask_token/unk_token in tokenizer_config.json.");
        }

        using var normalized = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', tokens)));
        return new WordPieceTextTokenizer(BertTokenizer.Create(normalized, options), [.. tokens], settings);
    }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.EncodeToIds(text, addSpecialTokens: false);
    }

    /// <summary>
    /// BERT's input template: <c>[CLS]</c>, the text's ids, <c>[SEP]</c>. <paramref name="prependBos"/>
    /// false gives the bare word pieces; true or <see langword="null"/> gives the template.
    /// </summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="prependBos">Whether to add the <c>[CLS]</c> … <c>[SEP]</c> template (default: yes).</param>
    /// <returns>The token ids.</returns>
    public override IReadOnlyList<int> EncodeForModel(string text, bool? prependBos = null)
    {
        var ids = Encode(text);
        if (prependBos == false)
        {
            return ids;
        }

        var result = new List<int>(ids.Count + 2) { ClsTokenId };
        result.AddRange(ids);
        result.Add(SepTokenId);
        return result;
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _tokenizer.Decode(ids, skipSpecialTokens: false);
    }

    /// <summary>The vocabulary entry of <paramref name="id"/> (e.g. <c>"##ing"</c>), as Hugging Face decodes one WordPiece token.</summary>
    /// <param name="id">The token id.</param>
    /// <returns>The token text.</returns>
    public override string IdToToken(int id)
    {
        CheckId(id);
        return _tokens[id];
    }

    /// <inheritdoc />
    public override int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Lookup(token);
    }

    private int? Lookup(string token) => _ids.TryGetValue(token, out var id) ? id : null;
}
