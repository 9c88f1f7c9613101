using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// Text coloured token by token by one value per token: a neuron's activation, an SAE latent, a per-token loss or a
/// direct logit attribution. The scale is centred at zero (blue negative, red positive) when any value is negative,
/// else it runs from white at 0 to red at the largest value. Hovering a token shows its position and value.
/// </summary>
public sealed class TokenActivationView : HtmlView
{
    private readonly string[] _tokens;
    private readonly double[] _values;
    private readonly ColorScale _scale;
    private readonly string? _valueName;

    /// <summary>One value per token.</summary>
    /// <param name="tokens">The token strings, in order.</param>
    /// <param name="values">One value per token (NaN shows grey).</param>
    /// <param name="title">The heading.</param>
    /// <param name="valueName">What the values are (shown by the legend), e.g. "blocks.0.mlp.hook_post[17]".</param>
    /// <param name="scaleMax">The value that gets the full colour (default: the largest |value|).</param>
    /// <exception cref="ArgumentException">The counts differ.</exception>
    public TokenActivationView(IReadOnlyList<string> tokens, IReadOnlyList<double> values, string title = "Token activations",
        string? valueName = null, double? scaleMax = null)
        : base(title)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(values);
        if (tokens.Count != values.Count)
            throw new ArgumentException($"there are {tokens.Count} tokens but {values.Count} values: pass one value per token", nameof(values));
        _tokens = tokens.Select(t => t ?? "").ToArray();
        _values = values.ToArray();
        _scale = ColorScale.For(_values, scaleMax);
        _valueName = valueName;
    }

    /// <summary>From a 1-D tensor [pos] (or [1, pos]) of values.</summary>
    /// <exception cref="ArgumentException">The tensor is not one value per token.</exception>
    public TokenActivationView(IReadOnlyList<string> tokens, Tensor values, string title = "Token activations",
        string? valueName = null, double? scaleMax = null)
        : this(tokens, Flatten(values), title, valueName, scaleMax)
    {
    }

    private protected override string Kind => "tokens";

    private protected override void WriteBody(StringBuilder html)
    {
        WriteLegend(html, _scale, _valueName);
        html.Append("<div class=\"mi-tokens\">");
        for (int i = 0; i < _tokens.Length; i++) WriteToken(html, _tokens[i], i, _values[i], _scale);
        html.Append("</div>");
    }

    private static double[] Flatten(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var shape = values.Shape;
        if (!(shape.Length == 1 || (shape.Length == 2 && shape[0] == 1)))
            throw new ArgumentException($"the values have shape [{string.Join(", ", shape)}]: pass [pos] (one value per token), e.g. cache[\"post\", 0][0, .., neuron]", nameof(values));
        return values.To(Device.Cpu).ToArray<double>();
    }
}
