using System.Net;
using System.Text;

namespace MechInterp;

/// <summary>How an activation cache looks in a notebook: its size and a table of hook names with shapes.</summary>
internal static class CacheHtml
{
    public static string Text(ActivationCache cache)
    {
        var text = new StringBuilder($"ActivationCache ({cache.Count} activations)");
        foreach (var name in cache.Keys) text.Append('\n').Append("  ").Append(name).Append(" [").Append(string.Join(", ", cache[name].Shape)).Append(']');
        return text.ToString();
    }

    public static string Html(ActivationCache cache)
    {
        var html = new StringBuilder("<div class=\"mi-cache\"><div style=\"font-family:monospace;margin-bottom:4px\">ActivationCache (")
            .Append(cache.Count).Append(" activations)</div><table style=\"border-collapse:collapse;font-family:monospace;font-size:12px\">")
            .Append("<tr><th style=\"text-align:left;padding:1px 8px\">hook</th><th style=\"text-align:left;padding:1px 8px\">shape</th><th style=\"text-align:left;padding:1px 8px\">dtype</th></tr>");
        foreach (var name in cache.Keys)
        {
            var t = cache[name];
            html.Append("<tr><td style=\"padding:1px 8px\">").Append(WebUtility.HtmlEncode(name)).Append("</td><td style=\"padding:1px 8px\">[")
                .Append(string.Join(", ", t.Shape)).Append("]</td><td style=\"padding:1px 8px\">").Append(t.DType).Append("</td></tr>");
        }
        return html.Append("</table></div>").ToString();
    }
}
