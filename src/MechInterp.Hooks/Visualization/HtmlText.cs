using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MechInterp.Visualization;

/// <summary>Escaping and number formatting shared by the views: every piece of user text (tokens, labels, titles)
/// goes through <see cref="Escape"/> before it reaches markup, and data for scripts through <see cref="Json"/>.</summary>
internal static class HtmlText
{
    /// <summary>Escapes text for an HTML element body or a double-quoted attribute value.</summary>
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>How a token is shown: newlines and tabs become visible marks (the original stays in tooltips).</summary>
    public static string DisplayToken(string token) =>
        token.Replace("\r", "\u240D", StringComparison.Ordinal).Replace("\n", "\u21B5", StringComparison.Ordinal)
             .Replace("\t", "\u2192", StringComparison.Ordinal);

    /// <summary>A short, culture-invariant rendering of a number (four significant digits; NaN as "n/a").</summary>
    public static string Number(double v)
    {
        if (double.IsNaN(v)) return "n/a";
        if (double.IsPositiveInfinity(v)) return "+inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        if (v == 0) return "0";
        double a = Math.Abs(v);
        return a >= 1e5 || a < 1e-3 ? v.ToString("0.###e+0", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);
    }

    /// <summary>Serialises data for a <c>&lt;script type="application/json"&gt;</c> block. The default encoder escapes
    /// &lt;, &gt;, &amp; and quotes as \u escapes, so no token can close the script element.</summary>
    public static string Json(object data) => JsonSerializer.Serialize(data);
}
