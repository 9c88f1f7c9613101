using System.Globalization;

namespace MechInterp.Visualization;

/// <summary>
/// Maps values to colours. A diverging scale is centred at zero (white) and symmetric (blue for -max, red for +max),
/// used whenever the values have both signs or the caller asks for it; a sequential scale runs white → red from 0
/// to max for non-negative values (activations, attention). The same formulas are in mi-views.js.
/// </summary>
internal readonly record struct ColorScale(double Max, bool Diverging)
{
    private static readonly (int R, int G, int B) s_white = (255, 255, 255);
    private static readonly (int R, int G, int B) s_positive = (178, 24, 43);
    private static readonly (int R, int G, int B) s_negative = (33, 102, 172);

    /// <summary>The scale for a set of values: diverging when any is negative (or <paramref name="forceDiverging"/>),
    /// max = the largest |value| (or <paramref name="max"/> when given); non-finite values are ignored.</summary>
    public static ColorScale For(IEnumerable<double> values, double? max = null, bool forceDiverging = false)
    {
        double largest = 0;
        bool negative = false;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            if (v < 0) negative = true;
            largest = Math.Max(largest, Math.Abs(v));
        }
        if (max is { } m)
        {
            if (!(m > 0) || !double.IsFinite(m))
                throw new ArgumentOutOfRangeException(nameof(max), m, "the colour scale's maximum must be a positive finite number (or null to use the largest |value|)");
            largest = m;
        }
        return new ColorScale(largest > 0 ? largest : 1, negative || forceDiverging);
    }

    /// <summary>The lowest value the scale shows (−Max when diverging, else 0).</summary>
    public double Min => Diverging ? -Max : 0;

    /// <summary>Signed intensity in [-1, 1] (clamped).</summary>
    public double Intensity(double v) => double.IsFinite(v) ? Math.Clamp(v / Max, Diverging ? -1 : 0, 1) : 0;

    /// <summary>The CSS colour of a value (grey for NaN).</summary>
    public string Css(double v)
    {
        if (double.IsNaN(v)) return "rgb(200,200,200)";
        double t = Intensity(double.IsInfinity(v) ? Math.Sign(v) * Max : v);
        var end = t >= 0 ? s_positive : s_negative;
        double a = Math.Abs(t);
        int r = (int)Math.Round(s_white.R + (end.R - s_white.R) * a, MidpointRounding.AwayFromZero);
        int g = (int)Math.Round(s_white.G + (end.G - s_white.G) * a, MidpointRounding.AwayFromZero);
        int b = (int)Math.Round(s_white.B + (end.B - s_white.B) * a, MidpointRounding.AwayFromZero);
        return string.Create(CultureInfo.InvariantCulture, $"rgb({r},{g},{b})");
    }

    /// <summary>Text colour that stays readable on <see cref="Css"/>'s background.</summary>
    public string TextCss(double v) => Math.Abs(Intensity(v)) > 0.6 ? "#fff" : "#111";

    /// <summary>A CSS gradient of the whole scale, for legends.</summary>
    public string Gradient() => Diverging
        ? $"linear-gradient(to right, {Css(-Max)}, {Css(0)}, {Css(Max)})"
        : $"linear-gradient(to right, {Css(0)}, {Css(Max)})";

    /// <summary>Background and text colour as a style attribute value.</summary>
    public string Style(double v) => $"background:{Css(v)};color:{TextCss(v)}";
}
