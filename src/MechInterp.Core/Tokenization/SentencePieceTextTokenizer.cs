using Microsoft.ML.Tokenizers;

namespace MechInterp;

/// <summary>
/// A SentencePiece <c>tokenizer.model</c> (Llama, Mistral, Gemma), run by Microsoft.ML.Tokenizers'
/// <see cref="LlamaTokenizer"/>. BOS/EOS come from the optional tokenizer_config.json /
/// special_tokens_map.json / config.json beside the model, else from the model itself; BOS is prepended
/// by default unless <c>add_bos_token</c> is false.
/// </summary>
public sealed class SentencePieceTextTokenizer : TextTokenizer
{
    private readonly SentencePieceTokenizer _tokenizer;

    private SentencePieceTextTokenizer(SentencePieceTokenizer tokenizer, HfTokenizerSettings settings)
    {
        _tokenizer = tokenizer;
        var vocabulary = tokenizer.Vocabulary;
        VocabSize = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        int? modelPad = tokenizer.Vocabulary.TryGetValue("<pad>", out var pad) ? pad : null;
        (BosTokenId, EosTokenId, PadTokenId, AddsBosByDefault) = settings.DecoderSpecials(
            Lookup, ValidId(tokenizer.BeginningOfSentenceId), ValidId(tokenizer.EndOfSentenceId), modelPad);
    }

    /// <inheritdoc />
    public override int VocabSize { get; }

    /// <summary>Id of the unknown-piece token.</summary>
    public int UnknownTokenId => _tokenizer.UnknownId;

    /// <summary>Loads a SentencePiece model file; special-token settings are read from the files beside it.</summary>
    /// <param name="modelPath">Path of <c>tokenizer.model</c>.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is not a SentencePiece model Microsoft.ML.Tokenizers can load.</exception>
    public static SentencePieceTextTokenizer FromModelFile(string modelPath)
    {
        ByteLevelBpeTextTokenizer.RequireFile(modelPath);
        var settings = HfTokenizerSettings.Read(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        using var stream = File.OpenRead(modelPath);
        LlamaTokenizer tokenizer;
        try
        {
            tokenizer = LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidDataException(
                $"'{modelPath}' could not be loaded as a SentencePiece model ({e.Message}); " +
                "check that it is a tokenizer.model from a Llama/Mistral/Gemma-style checkpoint.", e);
        }

        return new SentencePieceTextTokenizer(tokenizer, settings);
    }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false);
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
        return Lookup(token) ?? base.TokenToId(token);
    }

    private int? Lookup(string token) => _tokenizer.Vocabulary.TryGetValue(token, out var id) ? id : null;

    private static int? ValidId(int id) => id >= 0 ? id : null;
}
