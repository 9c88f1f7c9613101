using System.Globalization;
using System.Text;

namespace MechInterp.Visualization;

/// <summary>
/// A dashboard for one SAE latent (or any feature direction), in the manner of SAELens / Neuronpedia feature pages:
/// statistics, a histogram of activations, the top and bottom logit effects, and the max-activating contexts with
/// every token coloured by its activation (one scale for all contexts; the maximum of each context outlined).
/// </summary>
public sealed class SaeLatentDashboard : HtmlView
{
    private const int HistWidth = 320, HistHeight = 120;
    private readonly SaeLatentRecord _record;

    /// <summary>The dashboard of <paramref name="record"/>.</summary>
    public SaeLatentDashboard(SaeLatentRecord record, string? title = null)
        : base(title ?? $"Latent {record?.LatentIndex}")
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(record.Contexts, nameof(record.Contexts));
        _record = record;
    }

    /// <summary>The data shown.</summary>
    public SaeLatentRecord Record => _record;

    private protected override string Kind => "sae-latent";

    private protected override void WriteBody(StringBuilder html)
    {
        var r = _record;
        html.Append("<div class=\"mi-sae-stats\" data-latent=\"").Append(r.LatentIndex).Append("\">");
        var stats = new List<string>();
        if (r.HookName is { } hook) stats.Add("hook " + hook);
        if (r.FiringDensity is { } d) stats.Add("firing density " + HtmlText.Number(d) + (d > 0 ? $" (log10 {HtmlText.Number(Math.Log10(d))})" : ""));
        if (r.Contexts.Count > 0) stats.Add("max activation " + HtmlText.Number(r.Contexts.Max(c => c.MaxActivation)));
        html.Append(HtmlText.Escape(string.Join(" · ", stats))).Append("</div><div class=\"mi-sae-grid\">");

        html.Append("<div class=\"mi-sae-col\">");
        if (r.Histogram is { } hist) WriteHistogram(html, hist);
        html.Append("</div><div class=\"mi-sae-col\">");
        WriteLogits(html, "Top positive logits", "mi-logits-top", r.TopLogits);
        html.Append("</div><div class=\"mi-sae-col\">");
        WriteLogits(html, "Top negative logits", "mi-logits-bottom", r.BottomLogits);
        html.Append("</div></div>");

        html.Append("<h3>Max-activating contexts</h3><div class=\"mi-contexts\">");
        var scale = ColorScale.For(r.Contexts.SelectMany(c => c.Activations));
        foreach (var ctx in r.Contexts)
        {
            html.Append("<div class=\"mi-context\"><span class=\"mi-context-max\">").Append(HtmlText.Number(ctx.MaxActivation)).Append("</span>");
            int argmax = -1;
            for (int i = 0; i < ctx.Activations.Count; i++) if (argmax < 0 || ctx.Activations[i] > ctx.Activations[argmax]) argmax = i;
            for (int i = 0; i < ctx.Tokens.Count; i++) WriteToken(html, ctx.Tokens[i] ?? "", i, ctx.Activations[i], scale, i == argmax ? "mi-max" : null);
            html.Append("</div>");
        }
        if (r.Contexts.Count == 0) html.Append("<p class=\"mi-note\">No contexts: the latent did not fire on the data.</p>");
        html.Append("</div>");
        WriteLegend(html, scale, "activation");
    }

    private static void WriteHistogram(StringBuilder html, ActivationHistogram hist)
    {
        long top = Math.Max(1, hist.Counts.Max());
        int bins = hist.Counts.Count;
        double bw = (double)HistWidth / bins;
        html.Append("<h3>Activation histogram</h3><svg class=\"mi-hist\" xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(HistWidth + 10)
            .Append("\" height=\"").Append(HistHeight + 30).Append("\">");
        for (int i = 0; i < bins; i++)
        {
            double h = (double)hist.Counts[i] / top * HistHeight;
            string tip = $"[{HtmlText.Number(hist.BinEdges[i])}, {HtmlText.Number(hist.BinEdges[i + 1])}{(i == bins - 1 ? "]" : ")")}: {hist.Counts[i]}";
            html.Append(Invariant($"<rect class=\"mi-hist-bar\" x=\"{5 + i * bw:0.##}\" y=\"{HistHeight - h:0.##}\" width=\"{Math.Max(1, bw - 1):0.##}\" height=\"{h:0.##}\" data-count=\"{hist.Counts[i]}\" data-tip=\""))
                .Append(HtmlText.Escape(tip)).Append("\"></rect>");
        }
        html.Append(Invariant($"<text x=\"5\" y=\"{HistHeight + 14}\">")).Append(HtmlText.Number(hist.BinEdges[0])).Append("</text>")
            .Append(Invariant($"<text x=\"{HistWidth + 5}\" y=\"{HistHeight + 14}\" text-anchor=\"end\">")).Append(HtmlText.Number(hist.BinEdges[bins])).Append("</text>")
            .Append(Invariant($"<text x=\"{HistWidth / 2 + 5}\" y=\"{HistHeight + 27}\" text-anchor=\"middle\">activation (max count {top})</text>"))
            .Append("</svg>");
    }

    private static void WriteLogits(StringBuilder html, string heading, string cssClass, IReadOnlyList<LogitEffect>? effects)
    {
        if (effects is null || effects.Count == 0) return;
        var scale = ColorScale.For(effects.Select(e => e.Effect), forceDiverging: true);
        html.Append("<h3>").Append(HtmlText.Escape(heading)).Append("</h3><table class=\"mi-table ").Append(cssClass).Append("\"><tbody>");
        foreach (var e in effects)
            html.Append("<tr><td class=\"mi-tcell\">").Append(HtmlText.Escape(HtmlText.DisplayToken(e.Token ?? ""))).Append("</td><td class=\"mi-tcell\" data-value=\"")
                .Append(HtmlText.Number(e.Effect)).Append("\" style=\"").Append(scale.Style(e.Effect)).Append("\">").Append(HtmlText.Number(e.Effect)).Append("</td></tr>");
        html.Append("</tbody></table>");
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
