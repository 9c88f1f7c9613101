using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// A picture of a result as self-contained HTML: inline CSS and JavaScript, no CDN and no network at view time (the
/// full document also forbids network through its Content-Security-Policy). <see cref="ToHtml"/> is a whole page,
/// <see cref="ToHtmlFragment"/> a block that carries its own style and script (for notebooks and reports), and
/// <see cref="SaveHtml"/> writes the page to a file. All text (tokens, labels, titles) is escaped.
/// </summary>
public abstract class HtmlView
{
    private protected HtmlView(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
    }

    /// <summary>The heading shown above the view (and the page title of <see cref="ToHtml"/>).</summary>
    public string Title { get; }

    /// <summary>The view's kind, written to its section's <c>data-mi-view</c> attribute.</summary>
    private protected abstract string Kind { get; }

    /// <summary>Writes the markup inside the view's section (after its heading).</summary>
    private protected abstract void WriteBody(StringBuilder html);

    /// <summary>A complete HTML document showing this view.</summary>
    public string ToHtml() => HtmlPage.Document(Title, html => WriteSection(html));

    /// <summary>A block of HTML with the view, its style and its script, to embed in another page or a notebook
    /// output. Several fragments (or views of an <see cref="HtmlReport"/>) can share one page.</summary>
    public string ToHtmlFragment()
    {
        var html = new StringBuilder();
        html.Append("<div class=\"mi-root\"><style>").Append(ViewAssets.Css).Append("</style>");
        WriteSection(html);
        html.Append("<script>").Append(ViewAssets.Script).Append("</script></div>");
        return html.ToString();
    }

    /// <summary>Writes <see cref="ToHtml"/> to <paramref name="path"/> (UTF-8), creating its folder.</summary>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    public void SaveHtml(string path) => HtmlPage.Save(path, ToHtml());

    internal void WriteSection(StringBuilder html)
    {
        html.Append("<section class=\"mi-view mi-").Append(Kind).Append("\" data-mi-view=\"").Append(Kind).Append("\">");
        if (Title.Length > 0) html.Append("<h2 class=\"mi-title\">").Append(HtmlText.Escape(Title)).Append("</h2>");
        WriteBody(html);
        html.Append("</section>");
    }

    /// <summary>A colour legend: low value, gradient bar, high value and an optional name.</summary>
    private protected static void WriteLegend(StringBuilder html, ColorScale scale, string? name)
    {
        html.Append("<div class=\"mi-legend\"><span class=\"mi-legend-min\">").Append(HtmlText.Number(scale.Min))
            .Append("</span><span class=\"mi-legend-bar\" style=\"background:").Append(scale.Gradient()).Append("\"></span>")
            .Append("<span class=\"mi-legend-max\">").Append(HtmlText.Number(scale.Max)).Append("</span>");
        if (!string.IsNullOrEmpty(name)) html.Append("<span class=\"mi-legend-name\">").Append(HtmlText.Escape(name)).Append("</span>");
        html.Append("</div>");
    }

    /// <summary>One token as a coloured span with its position and value in data attributes and a tooltip.</summary>
    private protected static void WriteToken(StringBuilder html, string token, int position, double value, ColorScale scale, string? extraClass = null)
    {
        html.Append("<span class=\"mi-token").Append(extraClass is null ? "" : " " + extraClass).Append("\" data-pos=\"").Append(position)
            .Append("\" data-value=\"").Append(HtmlText.Number(value)).Append("\" style=\"").Append(scale.Style(value))
            .Append("\" data-tip=\"").Append(HtmlText.Escape($"{Quote(token)} (position {position}): {HtmlText.Number(value)}"))
            .Append("\">").Append(HtmlText.Escape(HtmlText.DisplayToken(token))).Append("</span>");
    }

    /// <summary>A token in quotes for tooltips, with newlines and tabs written as escapes.</summary>
    private protected static string Quote(string token) =>
        "'" + token.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal) + "'";

    /// <summary>Labels given by the caller, or 0, 1, 2, ...; throws when the count is wrong.</summary>
    private protected static string[] Labels(IReadOnlyList<string>? labels, int count, string parameter, string what)
    {
        if (labels is null) return Enumerable.Range(0, count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (labels.Count != count)
            throw new ArgumentException($"{parameter} has {labels.Count} labels but the data has {count} {what}: pass one label per {what.TrimEnd('s')} (or null for 0, 1, 2, ...)", parameter);
        return labels.Select(l => l ?? "").ToArray();
    }
}
