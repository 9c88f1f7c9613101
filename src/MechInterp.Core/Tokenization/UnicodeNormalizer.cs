using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace MechInterp;

/// <summary>
/// The Hugging Face <c>tokenizer.json</c> normalizers that only rewrite characters: <c>NFC</c>, <c>NFD</c>,
/// <c>NFKC</c>, <c>NFKD</c> and <c>Lowercase</c>, applied in order.
/// </summary>
internal sealed class UnicodeNormalizer : Normalizer
{
    private readonly IReadOnlyList<string> _steps;

    /// <summary>Creates the normalizer from the <c>type</c> names of the steps.</summary>
    public UnicodeNormalizer(IReadOnlyList<string> steps) => _steps = steps;

    /// <summary>The step names this normalizer understands.</summary>
    public static IReadOnlySet<string> SupportedSteps { get; } =
        new HashSet<string>(StringComparer.Ordinal) { "NFC", "NFD", "NFKC", "NFKD", "Lowercase" };

    /// <inheritdoc />
    public override string Normalize(string original)
    {
        ArgumentNullException.ThrowIfNull(original);
        var text = original;
        foreach (var step in _steps)
        {
            text = step switch
            {
                "NFC" => text.Normalize(NormalizationForm.FormC),
                "NFD" => text.Normalize(NormalizationForm.FormD),
                "NFKC" => text.Normalize(NormalizationForm.FormKC),
                "NFKD" => text.Normalize(NormalizationForm.FormKD),
                _ => text.ToLower(CultureInfo.InvariantCulture),
            };
        }

        return text;
    }

    /// <inheritdoc />
    public override string Normalize(ReadOnlySpan<char> original) => Normalize(original.ToString());
}
