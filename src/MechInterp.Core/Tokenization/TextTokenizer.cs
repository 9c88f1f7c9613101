namespace MechInterp;

/// <summary>
/// A tokenizer as a model sees it: text to token ids and back, the text of single tokens (as
/// TransformerLens's <c>to_str_tokens</c> shows them) and the special-token ids (BOS, EOS, PAD).
/// Implementations adapt Microsoft.ML.Tokenizers; get one with <see cref="Gpt2"/> or
/// <see cref="FromPretrained(string)"/>.
/// </summary>
public abstract partial class TextTokenizer
{
    private readonly Lazy<Dictionary<string, int>> _idsByTokenText;

    /// <summary>Initializes the lazily built reverse map used by <see cref="TokenToId"/>.</summary>
    protected TextTokenizer()
    {
        _idsByTokenText = new Lazy<Dictionary<string, int>>(BuildTokenTextIndex);
    }

    /// <summary>Number of token ids (the largest id plus one, added and special tokens included).</summary>
    public abstract int VocabSize { get; }

    /// <summary>Id of the beginning-of-sequence token, or <see langword="null"/> when the tokenizer has none.</summary>
    public int? BosTokenId { get; protected init; }

    /// <summary>Id of the end-of-sequence token, or <see langword="null"/> when the tokenizer has none.</summary>
    public int? EosTokenId { get; protected init; }

    /// <summary>Id of the padding token, or <see langword="null"/> when the tokenizer has none.</summary>
    public int? PadTokenId { get; protected init; }

    /// <summary>
    /// Whether models prepend <see cref="BosTokenId"/> by default (TransformerLens's
    /// <c>default_prepend_bos</c>): true when a BOS token exists unless the tokenizer's
    /// <c>tokenizer_config.json</c> says <c>"add_bos_token": false</c>.
    /// </summary>
    public bool AddsBosByDefault { get; protected init; }

    /// <summary>Encodes <paramref name="text"/> into token ids, without any BOS/EOS or other template tokens.</summary>
    /// <param name="text">The text to encode.</param>
    /// <returns>The token ids.</returns>
    public abstract IReadOnlyList<int> Encode(string text);

    /// <summary>Decodes token ids into text; special tokens are kept as their text.</summary>
    /// <param name="ids">The token ids.</param>
    /// <returns>The decoded text.</returns>
    public abstract string Decode(IEnumerable<int> ids);

    /// <summary>
    /// The ids a model consumes for <paramref name="text"/> (TransformerLens's <c>to_tokens</c> for one
    /// string): <see cref="BosTokenId"/> first when <paramref name="prependBos"/> (default
    /// <see cref="AddsBosByDefault"/>), then <see cref="Encode"/>'s ids.
    /// </summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="prependBos">Whether to prepend BOS; <see langword="null"/> uses <see cref="AddsBosByDefault"/>.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="InvalidOperationException">BOS was asked for but the tokenizer has no BOS token.</exception>
    public virtual IReadOnlyList<int> EncodeForModel(string text, bool? prependBos = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = Encode(text);
        if (!(prependBos ?? AddsBosByDefault))
        {
            return ids;
        }

        if (BosTokenId is not int bos)
        {
            throw new InvalidOperationException(
                $"{GetType().Name} has no BOS token, so it cannot be prepended: pass prependBos: false, " +
                "or give the tokenizer a bos_token in tokenizer_config.json / special_tokens_map.json.");
        }

        var result = new List<int>(ids.Count + 1) { bos };
        result.AddRange(ids);
        return result;
    }

    /// <summary>
    /// The text of one token as TransformerLens's <c>to_str_tokens</c> shows it: the decoded string of that
    /// single token (GPT-2's 995 is <c>" world"</c>; a token holding part of a UTF-8 character decodes to U+FFFD).
    /// </summary>
    /// <param name="id">The token id.</param>
    /// <returns>The token's text.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is outside 0..<see cref="VocabSize"/>-1.</exception>
    public virtual string IdToToken(int id)
    {
        CheckId(id);
        return Decode([id]);
    }

    /// <summary>
    /// The id of a token given its text: the vocabulary's own spelling of the token (e.g. <c>"Ġworld"</c>)
    /// when the tokenizer exposes it, otherwise the text <see cref="IdToToken"/> shows (e.g. <c>" world"</c>;
    /// when several ids show the same text, the lowest id).
    /// </summary>
    /// <param name="token">The token text.</param>
    /// <returns>The id, or <see langword="null"/> when no token has that text.</returns>
    public virtual int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _idsByTokenText.Value.TryGetValue(token, out var id) ? id : null;
    }

    /// <summary>Throws when <paramref name="id"/> is not a valid token id of this tokenizer.</summary>
    /// <param name="id">The token id.</param>
    protected void CheckId(int id)
    {
        if ((uint)id >= (uint)VocabSize)
        {
            throw new ArgumentOutOfRangeException(
                nameof(id), id, $"token id {id} is outside the vocabulary of {GetType().Name} (0..{VocabSize - 1}).");
        }
    }

    private Dictionary<string, int> BuildTokenTextIndex()
    {
        var index = new Dictionary<string, int>(VocabSize, StringComparer.Ordinal);
        for (var id = 0; id < VocabSize; id++)
        {
            index.TryAdd(IdToToken(id), id);
        }

        return index;
    }
}
