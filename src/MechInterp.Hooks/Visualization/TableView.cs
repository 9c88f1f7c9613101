using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// A table of text cells, some coloured by a value: a logit-lens table (rows = layers, cells = the top predicted
/// tokens with their probabilities), top-k predictions, head scores. Coloured cells share one scale, centred at zero
/// when any value is negative, else from 0 to the largest value.
/// </summary>
public sealed class TableView : HtmlView
{
    private readonly string[] _columns;
    private readonly TableCell[][] _rows;
    private readonly ColorScale _scale;
    private readonly string? _valueName;

    /// <summary>A table with column headings and rows of cells.</summary>
    /// <param name="columns">The column headings.</param>
    /// <param name="rows">The rows; each has one cell per column.</param>
    /// <param name="title">The heading.</param>
    /// <param name="valueName">What the cell values are (shown by the legend when any cell has a value).</param>
    /// <param name="scaleMax">The |value| that gets the full colour (default: the largest).</param>
    /// <exception cref="ArgumentException">A row has a different number of cells than there are columns.</exception>
    public TableView(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<TableCell>> rows, string title = "Table",
        string? valueName = null, double? scaleMax = null)
        : base(title)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        _columns = columns.Select(c => c ?? "").ToArray();
        _rows = new TableCell[rows.Count][];
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r] ?? throw new ArgumentException($"row {r} is null: pass a list of cells", nameof(rows));
            if (row.Count != _columns.Length)
                throw new ArgumentException($"row {r} has {row.Count} cells but the table has {_columns.Length} columns: pass one cell per column", nameof(rows));
            _rows[r] = row.ToArray();
        }
        _scale = ColorScale.For(_rows.SelectMany(r => r).Where(c => c.Value.HasValue).Select(c => c.Value!.Value), scaleMax);
        _valueName = valueName;
    }

    /// <summary>The number of body rows.</summary>
    public int RowCount => _rows.Length;

    private protected override string Kind => "table";

    private protected override void WriteBody(StringBuilder html)
    {
        if (_rows.Any(r => r.Any(c => c.Value.HasValue))) WriteLegend(html, _scale, _valueName);
        html.Append("<table class=\"mi-table\"><thead><tr>");
        foreach (var c in _columns) html.Append("<th>").Append(HtmlText.Escape(c)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        for (int r = 0; r < _rows.Length; r++)
        {
            html.Append("<tr>");
            for (int c = 0; c < _columns.Length; c++)
            {
                var cell = _rows[r][c];
                html.Append("<td class=\"mi-tcell\" data-row=\"").Append(r).Append("\" data-col=\"").Append(c).Append('"');
                if (cell.Value is { } v)
                    html.Append(" data-value=\"").Append(HtmlText.Number(v)).Append("\" style=\"").Append(_scale.Style(v)).Append('"');
                if (cell.Tooltip is { } tip) html.Append(" data-tip=\"").Append(HtmlText.Escape(tip)).Append('"');
                html.Append('>').Append(HtmlText.Escape(HtmlText.DisplayToken(cell.Text ?? ""))).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
    }
}
