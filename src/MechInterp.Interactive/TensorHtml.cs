using System.Globalization;
using System.Net;
using System.Text;

namespace MechInterp;

/// <summary>How a tensor looks in a notebook: a header (shape, dtype, device, gradient) and a table of at most
/// <see cref="MaxRows"/> × <see cref="MaxColumns"/> elements of its first 2-D slice (a rank-0 tensor is its value,
/// a rank-1 tensor one row). Only the shown elements are copied to the host.</summary>
internal static class TensorHtml
{
    public const int MaxRows = 16, MaxColumns = 16;

    public static string Summary(Tensor t)
    {
        string grad = t.RequiresGrad ? ", requires grad" : "";
        return $"Tensor [{string.Join(", ", t.Shape)}] {t.DType} on {t.Device}{grad}";
    }

    public static string Html(Tensor t)
    {
        var html = new StringBuilder("<div class=\"mi-tensor\"><div style=\"font-family:monospace;margin-bottom:4px\">")
            .Append(WebUtility.HtmlEncode(Summary(t))).Append("</div>");
        if (t.NumElements == 0) return html.Append("</div>").ToString();
        if (t.Rank == 0) return html.Append("<div style=\"font-family:monospace\">").Append(Cell(t.ToArray<double>()[0], t.DType)).Append("</div></div>").ToString();

        // The first 2-D slice, trimmed to the shown size, before anything is copied.
        var index = new List<TensorIndex>();
        for (int d = 0; d < t.Rank - 2; d++) index.Add(0);
        long rows = t.Rank == 1 ? 1 : t.Shape[^2], cols = t.Shape[^1];
        int shownRows = (int)Math.Min(rows, MaxRows), shownCols = (int)Math.Min(cols, MaxColumns);
        if (t.Rank >= 2) index.Add(..shownRows);
        index.Add(..shownCols);
        var values = t[index.ToArray()].ToArray<double>();                // [shownRows, shownCols]
        if (t.Rank > 2)
            html.Append("<div style=\"font-family:monospace;color:#555\">[").Append(string.Join(", ", Enumerable.Repeat("0", t.Rank - 2).Append(":").Append(":")))
                .Append("]</div>");
        html.Append("<table style=\"border-collapse:collapse;font-family:monospace;font-size:12px\">");
        for (int r = 0; r < shownRows; r++)
        {
            html.Append("<tr>");
            for (int c = 0; c < shownCols; c++)
                html.Append("<td style=\"padding:1px 6px;text-align:right;border:1px solid #eee\">").Append(Cell(values[r * shownCols + c], t.DType)).Append("</td>");
            if (cols > shownCols) html.Append("<td>\u2026</td>");
            html.Append("</tr>");
        }
        if (rows > shownRows) html.Append("<tr><td colspan=\"").Append(shownCols).Append("\" style=\"text-align:center\">\u22EE</td></tr>");
        return html.Append("</table></div>").ToString();
    }

    private static string Cell(double v, DType dtype) => dtype switch
    {
        DType.Bool => v != 0 ? "true" : "false",
        DType.Int64 or DType.Int32 or DType.UInt8 => v.ToString("0", CultureInfo.InvariantCulture),
        _ => double.IsFinite(v) ? v.ToString("G5", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture),
    };
}
