using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// A heatmap of a 2-D result [rows, columns] or a 3-D one [panels, rows, columns] (one panel each, on one shared
/// scale), with row and column labels and a colour scale centred at zero: white is 0, red positive, blue negative,
/// both ends at the largest |value|. Made for patching results ([layer × position], [layer × head], or
/// [component, layer, position] for a per-block sweep), attributions and head scores. Each cell shows its value on
/// hover (and as text when the map is small).
/// </summary>
public sealed class HeatmapView : HtmlView
{
    private readonly double[] _values; // [panels, rows, cols], row-major
    private readonly int _panels, _rows, _cols;
    private readonly string[] _rowLabels, _colLabels, _panelLabels;
    private readonly string? _rowAxis, _colAxis, _metricName;
    private readonly ColorScale _scale;

    /// <summary>From a tensor [rows, columns] or [panels, rows, columns].</summary>
    /// <param name="values">The result, e.g. a patching sweep [n_layers, pos].</param>
    /// <param name="rowLabels">One label per row (default 0, 1, ...), e.g. layer numbers.</param>
    /// <param name="columnLabels">One label per column (default 0, 1, ...), e.g. tokens or head indices.</param>
    /// <param name="title">The heading.</param>
    /// <param name="metricName">What the values are (shown by the legend), e.g. "logit difference recovered".</param>
    /// <param name="rowAxis">Axis name of the rows, e.g. "layer".</param>
    /// <param name="columnAxis">Axis name of the columns, e.g. "position".</param>
    /// <param name="panelLabels">One label per panel of a 3-D result, e.g. "resid_pre", "attn_out", "mlp_out".</param>
    /// <param name="scaleMax">The |value| that gets the full colour (default: the largest |value|).</param>
    /// <exception cref="ArgumentException">The rank is not 2 or 3, or a label count does not match.</exception>
    public HeatmapView(Tensor values, IReadOnlyList<string>? rowLabels = null, IReadOnlyList<string>? columnLabels = null,
        string title = "Heatmap", string? metricName = null, string? rowAxis = null, string? columnAxis = null,
        IReadOnlyList<string>? panelLabels = null, double? scaleMax = null)
        : this(ToArray(values, out var dims), dims, rowLabels, columnLabels, title, metricName, rowAxis, columnAxis, panelLabels, scaleMax)
    {
    }

    /// <summary>From a 2-D array [rows, columns].</summary>
    /// <exception cref="ArgumentException">A label count does not match.</exception>
    public HeatmapView(double[,] values, IReadOnlyList<string>? rowLabels = null, IReadOnlyList<string>? columnLabels = null,
        string title = "Heatmap", string? metricName = null, string? rowAxis = null, string? columnAxis = null, double? scaleMax = null)
        : this(Flatten(values), [1, values.GetLength(0), values.GetLength(1)], rowLabels, columnLabels, title, metricName, rowAxis, columnAxis, null, scaleMax)
    {
    }

    /// <summary>From a 3-D array [panels, rows, columns].</summary>
    /// <exception cref="ArgumentException">A label count does not match.</exception>
    public HeatmapView(double[,,] values, IReadOnlyList<string>? panelLabels, IReadOnlyList<string>? rowLabels = null,
        IReadOnlyList<string>? columnLabels = null, string title = "Heatmap", string? metricName = null, string? rowAxis = null,
        string? columnAxis = null, double? scaleMax = null)
        : this(Flatten(values), [values.GetLength(0), values.GetLength(1), values.GetLength(2)], rowLabels, columnLabels, title, metricName,
            rowAxis, columnAxis, panelLabels ?? [], scaleMax)
    {
    }

    private HeatmapView(double[] values, int[] dims, IReadOnlyList<string>? rowLabels, IReadOnlyList<string>? columnLabels, string title,
        string? metricName, string? rowAxis, string? columnAxis, IReadOnlyList<string>? panelLabels, double? scaleMax)
        : base(title)
    {
        (_panels, _rows, _cols) = (dims[0], dims[1], dims[2]);
        if (_rows == 0 || _cols == 0 || _panels == 0)
            throw new ArgumentException($"the heatmap is empty ({_panels} x {_rows} x {_cols}): pass at least one row and one column", nameof(values));
        _values = values;
        _rowLabels = Labels(rowLabels, _rows, nameof(rowLabels), "rows");
        _colLabels = Labels(columnLabels, _cols, nameof(columnLabels), "columns");
        _panelLabels = _panels == 1 && (panelLabels is null || panelLabels.Count == 0)
            ? [""]
            : Labels(panelLabels is { Count: > 0 } ? panelLabels : null, _panels, nameof(panelLabels), "panels");
        _metricName = metricName;
        _rowAxis = rowAxis;
        _colAxis = columnAxis;
        _scale = ColorScale.For(values, scaleMax, forceDiverging: true);
    }

    /// <summary>Rows, columns and panels shown.</summary>
    public (int Panels, int Rows, int Columns) Dimensions => (_panels, _rows, _cols);

    private protected override string Kind => "heatmap";

    private protected override void WriteBody(StringBuilder html)
    {
        WriteLegend(html, _scale, _metricName);
        bool showNumbers = _cols <= 24;
        for (int p = 0; p < _panels; p++)
        {
            html.Append("<div class=\"mi-panel\" data-panel=\"").Append(p).Append("\">");
            if (_panelLabels[p].Length > 0) html.Append("<div class=\"mi-panel-title\">").Append(HtmlText.Escape(_panelLabels[p])).Append("</div>");
            html.Append("<table class=\"mi-heatmap\"><thead><tr><th class=\"mi-axis\">")
                .Append(HtmlText.Escape(_rowAxis is null && _colAxis is null ? "" : $"{_rowAxis ?? ""} \\ {_colAxis ?? ""}")).Append("</th>");
            foreach (var c in _colLabels) html.Append("<th class=\"mi-col-label\">").Append(HtmlText.Escape(HtmlText.DisplayToken(c))).Append("</th>");
            html.Append("</tr></thead><tbody>");
            for (int r = 0; r < _rows; r++)
            {
                html.Append("<tr><th class=\"mi-row-label\">").Append(HtmlText.Escape(HtmlText.DisplayToken(_rowLabels[r]))).Append("</th>");
                for (int c = 0; c < _cols; c++)
                {
                    double v = _values[(p * _rows + r) * _cols + c];
                    string tip = $"{(_panelLabels[p].Length > 0 ? _panelLabels[p] + ", " : "")}{_rowAxis ?? "row"} {_rowLabels[r]}, {_colAxis ?? "column"} {_colLabels[c]}: {HtmlText.Number(v)}";
                    html.Append("<td class=\"mi-cell\" data-row=\"").Append(r).Append("\" data-col=\"").Append(c).Append("\" data-value=\"")
                        .Append(HtmlText.Number(v)).Append("\" style=\"").Append(_scale.Style(v)).Append("\" data-tip=\"").Append(HtmlText.Escape(tip)).Append("\">");
                    if (showNumbers) html.Append(HtmlText.Number(Math.Round(v, 2)));
                    html.Append("</td>");
                }
                html.Append("</tr>");
            }
            html.Append("</tbody></table></div>");
        }
    }

    private static double[] ToArray(Tensor values, out int[] dims)
    {
        ArgumentNullException.ThrowIfNull(values);
        var s = values.Shape;
        dims = s.Length switch
        {
            2 => [1, (int)s[0], (int)s[1]],
            3 => [(int)s[0], (int)s[1], (int)s[2]],
            _ => throw new ArgumentException($"the heatmap values have shape [{string.Join(", ", s)}]: pass [rows, columns] or [panels, rows, columns]", nameof(values)),
        };
        return values.To(Device.Cpu).ToArray<double>();
    }

    private static double[] Flatten(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var flat = new double[values.Length];
        int i = 0;
        foreach (double v in values) flat[i++] = v;
        return flat;
    }

    private static double[] Flatten(double[,,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var flat = new double[values.Length];
        int i = 0;
        foreach (double v in values) flat[i++] = v;
        return flat;
    }
}
