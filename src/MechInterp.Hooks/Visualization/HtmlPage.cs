using System.Text;

namespace MechInterp.Visualization;

/// <summary>The page around one or more views: charset, a Content-Security-Policy that allows only inline style and
/// script (so nothing is fetched at view time), the shared stylesheet, and the shared script at the end.</summary>
internal static class HtmlPage
{
    private const string Csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

    public static string Document(string title, Action<StringBuilder> writeBody)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"").Append(Csp).Append("\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<meta name=\"generator\" content=\"MechInterp.NET\">")
            .Append("<title>").Append(HtmlText.Escape(title.Length > 0 ? title : "MechInterp.NET")).Append("</title>")
            .Append("<style>").Append(ViewAssets.Css).Append("</style></head>\n<body class=\"mi-root mi-page\">\n");
        writeBody(html);
        html.Append("\n<script>").Append(ViewAssets.Script).Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    public static void Save(string path, string html)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new ArgumentException("the HTML file path is empty: pass a file name such as \"attention.html\"", nameof(path));
        string full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { Length: > 0 } dir) Directory.CreateDirectory(dir);
        File.WriteAllText(full, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }
}
