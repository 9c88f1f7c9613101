namespace MechInterp.Visualization;

/// <summary>One cell of a <see cref="TableView"/>: its text, an optional value that colours it (on the table's scale,
/// centred at zero when any value is negative) and an optional tooltip.</summary>
/// <param name="Text">What the cell shows (escaped).</param>
/// <param name="Value">Colours the cell when set (NaN shows grey).</param>
/// <param name="Tooltip">Shown on hover.</param>
public readonly record struct TableCell(string Text, double? Value = null, string? Tooltip = null)
{
    /// <summary>A plain text cell.</summary>
    public static implicit operator TableCell(string text) => new(text);

    /// <summary>A number shown with four significant digits and coloured by its value.</summary>
    public static TableCell Number(double value, string? tooltip = null) => new(HtmlText.Number(value), value, tooltip);
}
