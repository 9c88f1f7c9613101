using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// Attention patterns per head over one sequence, in the manner of CircuitsVis: a thumbnail per head (click to
/// select), the selected head's query × key grid with a tooltip per cell, and the tokens, where hovering a token
/// colours every token by how much the hovered one (as query) attends to it.
/// </summary>
/// <example><code>
/// var (_, cache) = model.RunWithCache(tokens);
/// new AttentionPatternView(model.ToStrTokens(tokens), cache["pattern", 0][0], layer: 0).SaveHtml("attn.html");
/// </code></example>
public sealed class AttentionPatternView : HtmlView
{
    private readonly string[] _tokens;
    private readonly float[][][] _pattern; // [head][query][key]
    private readonly string[] _headLabels;

    /// <summary>From a pattern tensor [n_heads, q, k] (or [1, n_heads, q, k], a batch of one), e.g.
    /// <c>cache["pattern", layer][0]</c>. Head labels default to "L{layer}H{h}" (or "H{h}" without a layer).</summary>
    /// <exception cref="ArgumentException">The shape is not [heads, n, n] with n = the number of tokens, or the
    /// pattern has non-finite values, or the label count is wrong.</exception>
    public AttentionPatternView(IReadOnlyList<string> tokens, Tensor pattern, IReadOnlyList<string>? headLabels = null,
        int? layer = null, string? title = null)
        : this(tokens, ToJagged(pattern), headLabels, layer, title)
    {
    }

    /// <summary>From arrays: <paramref name="pattern"/>[head][query][key], each row a distribution over keys.</summary>
    /// <exception cref="ArgumentException">The arrays are ragged or do not match the token count, values are not
    /// finite, or the label count is wrong.</exception>
    public AttentionPatternView(IReadOnlyList<string> tokens, float[][][] pattern, IReadOnlyList<string>? headLabels = null,
        int? layer = null, string? title = null)
        : base(title ?? (layer is { } l ? $"Attention patterns, layer {l}" : "Attention patterns"))
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(pattern);
        int n = tokens.Count;
        if (pattern.Length == 0) throw new ArgumentException("the attention pattern has no heads: pass [n_heads, q, k] with n_heads >= 1", nameof(pattern));
        if (n == 0) throw new ArgumentException("there are no tokens: pass one string per position", nameof(tokens));
        for (int h = 0; h < pattern.Length; h++)
        {
            if (pattern[h] is null || pattern[h].Length != n)
                throw new ArgumentException($"head {h} of the pattern has {pattern[h]?.Length ?? 0} query rows but there are {n} tokens: the pattern must be [n_heads, {n}, {n}]", nameof(pattern));
            for (int q = 0; q < n; q++)
            {
                var row = pattern[h][q];
                if (row is null || row.Length != n)
                    throw new ArgumentException($"head {h}, query {q} of the pattern has {row?.Length ?? 0} keys but there are {n} tokens: the pattern must be [n_heads, {n}, {n}]", nameof(pattern));
                foreach (float w in row)
                    if (!float.IsFinite(w))
                        throw new ArgumentException($"head {h}, query {q} of the pattern holds {w}: pass the post-softmax pattern (hook_pattern), not the scores", nameof(pattern));
            }
        }
        _tokens = tokens.Select(t => t ?? "").ToArray();
        _pattern = pattern;
        _headLabels = headLabels is null
            ? Enumerable.Range(0, pattern.Length).Select(h => layer is { } ly ? $"L{ly}H{h}" : $"H{h}").ToArray()
            : Labels(headLabels, pattern.Length, nameof(headLabels), "heads");
    }

    /// <summary>The number of heads shown.</summary>
    public int HeadCount => _pattern.Length;

    private protected override string Kind => "attention";

    private protected override void WriteBody(StringBuilder html)
    {
        html.Append("<div class=\"mi-heads\">");
        for (int h = 0; h < _pattern.Length; h++)
            html.Append("<button type=\"button\" class=\"mi-head\" data-head=\"").Append(h).Append("\"><canvas></canvas><span class=\"mi-head-label\">")
                .Append(HtmlText.Escape(_headLabels[h])).Append("</span></button>");
        html.Append("</div><div class=\"mi-attn-body\"><div><p class=\"mi-attn-caption\"></p><svg class=\"mi-attn-grid\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div>")
            .Append("<div><p class=\"mi-attn-caption-tokens mi-note\">Hover a token to colour the tokens it attends to in the selected head.</p><div class=\"mi-attn-tokens\">");
        for (int i = 0; i < _tokens.Length; i++)
            html.Append("<span class=\"mi-token\" data-pos=\"").Append(i).Append("\" data-tip=\"").Append(HtmlText.Escape($"{Quote(_tokens[i])} (position {i})"))
                .Append("\">").Append(HtmlText.Escape(HtmlText.DisplayToken(_tokens[i]))).Append("</span>");
        html.Append("</div></div></div><script type=\"application/json\" class=\"mi-data\">")
            .Append(HtmlText.Json(new { tokens = _tokens, heads = _headLabels, pattern = _pattern }))
            .Append("</script>");
    }

    private static float[][][] ToJagged(Tensor pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var shape = pattern.Shape;
        if (shape.Length == 4 && shape[0] == 1) shape = shape[1..];
        else if (shape.Length == 4)
            throw new ArgumentException($"the pattern has shape [{string.Join(", ", pattern.Shape)}]: pass one sequence, pattern[b] with shape [n_heads, q, k]", nameof(pattern));
        if (shape.Length != 3)
            throw new ArgumentException($"the pattern has shape [{string.Join(", ", pattern.Shape)}]: pass [n_heads, q, k] (e.g. cache[\"pattern\", layer][0])", nameof(pattern));
        var flat = pattern.To(Device.Cpu).ToArray<float>();
        int heads = (int)shape[0], q = (int)shape[1], k = (int)shape[2];
        var result = new float[heads][][];
        for (int h = 0; h < heads; h++)
        {
            result[h] = new float[q][];
            for (int i = 0; i < q; i++) result[h][i] = flat.AsSpan((h * q + i) * k, k).ToArray();
        }
        return result;
    }
}
