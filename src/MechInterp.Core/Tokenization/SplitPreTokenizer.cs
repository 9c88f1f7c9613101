using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace MechInterp;

/// <summary>
/// Hugging Face's <c>Split</c> pre-tokenizer with the <c>Isolated</c> behaviour, applied as a sequence of
/// patterns: added/special tokens are cut out first and kept whole; each pattern then splits every piece into
/// its matches and the text between them (nothing is dropped). With GPT-2's pattern this is the
/// <c>ByteLevel(use_regex=true)</c> pre-tokenizer.
/// </summary>
internal sealed class SplitPreTokenizer : PreTokenizer
{
    /// <summary>GPT-2's pre-tokenization pattern (used by the ByteLevel pre-tokenizer with <c>use_regex</c>).</summary>
    public const string Gpt2Pattern =
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly IReadOnlyList<Regex> _patterns;
    private readonly Regex? _specialTokens;

    /// <summary>Creates the pre-tokenizer.</summary>
    /// <param name="patterns">The split patterns, applied in order.</param>
    /// <param name="specialTokens">Tokens cut out whole before splitting (may be empty).</param>
    public SplitPreTokenizer(IReadOnlyList<Regex> patterns, IEnumerable<string> specialTokens)
    {
        _patterns = patterns;
        var alternatives = specialTokens
            .Where(t => t.Length > 0)
            .OrderByDescending(t => t.Length)
            .Select(Regex.Escape)
            .ToList();
        _specialTokens = alternatives.Count == 0
            ? null
            : new Regex(string.Join('|', alternatives), RegexOptions.CultureInvariant);
    }

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        text is null ? [] : Split(text);

    /// <inheritdoc />
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) =>
        Split(text.ToString());

    private List<(int Offset, int Length)> Split(string text)
    {
        var pieces = new List<(int Offset, int Length)>();
        var start = 0;
        if (_specialTokens is not null)
        {
            foreach (Match special in _specialTokens.Matches(text))
            {
                SplitRange(text, start, special.Index - start, 0, pieces);
                pieces.Add((special.Index, special.Length));
                start = special.Index + special.Length;
            }
        }

        SplitRange(text, start, text.Length - start, 0, pieces);
        return pieces;
    }

    private void SplitRange(string text, int offset, int length, int level, List<(int, int)> pieces)
    {
        if (length == 0)
        {
            return;
        }

        if (level == _patterns.Count)
        {
            pieces.Add((offset, length));
            return;
        }

        var position = offset;
        var end = offset + length;
        for (var match = _patterns[level].Match(text, offset, length); match.Success; match = match.NextMatch())
        {
            if (match.Length == 0)
            {
                continue;
            }

            SplitRange(text, position, match.Index - position, level + 1, pieces);
            SplitRange(text, match.Index, match.Length, level + 1, pieces);
            position = match.Index + match.Length;
        }

        SplitRange(text, position, end - position, level + 1, pieces);
    }
}
