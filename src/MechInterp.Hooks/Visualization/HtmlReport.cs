using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// Several views on one self-contained page, with headings and paragraphs between them (e.g. the QuickStart report).
/// The stylesheet and script are included once.
/// </summary>
public sealed class HtmlReport
{
    private readonly List<Action<StringBuilder>> _parts = [];

    /// <summary>An empty report titled <paramref name="title"/>.</summary>
    public HtmlReport(string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        Title = title;
    }

    /// <summary>The page title and top heading.</summary>
    public string Title { get; }

    /// <summary>Appends a section heading.</summary>
    public HtmlReport AddHeading(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _parts.Add(h => h.Append("<h2 class=\"mi-report-heading\">").Append(HtmlText.Escape(text)).Append("</h2>"));
        return this;
    }

    /// <summary>Appends a paragraph of plain text (escaped; line breaks kept).</summary>
    public HtmlReport AddParagraph(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _parts.Add(h => h.Append("<p class=\"mi-report-text\">").Append(HtmlText.Escape(text)).Append("</p>"));
        return this;
    }

    /// <summary>Appends a view.</summary>
    public HtmlReport Add(HtmlView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        _parts.Add(view.WriteSection);
        return this;
    }

    /// <summary>The whole report as one HTML document.</summary>
    public string ToHtml() => HtmlPage.Document(Title, html =>
    {
        html.Append("<h1 class=\"mi-report-title\">").Append(HtmlText.Escape(Title)).Append("</h1>");
        foreach (var part in _parts) part(html);
    });

    /// <summary>The report as a block of HTML with its own style and script, for a notebook output.</summary>
    public string ToHtmlFragment()
    {
        var html = new StringBuilder("<div class=\"mi-root\"><style>").Append(ViewAssets.Css).Append("</style>")
            .Append("<h1 class=\"mi-report-title\">").Append(HtmlText.Escape(Title)).Append("</h1>");
        foreach (var part in _parts) part(html);
        return html.Append("<script>").Append(ViewAssets.Script).Append("</script></div>").ToString();
    }

    /// <summary>Writes <see cref="ToHtml"/> to <paramref name="path"/> (UTF-8), creating its folder.</summary>
    /// <exception cref="ArgumentException">The path is empty.</exception>
    public void SaveHtml(string path) => HtmlPage.Save(path, ToHtml());
}
