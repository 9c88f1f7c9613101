using System.Globalization;
using MechInterp.Tests.Hooks;
using MechInterp.Visualization;
using Xunit;

namespace MechInterp.Tests.Visualization;

/// <summary>
/// Every HTML view rendered in headless Chromium (one browser for the class): no script or console errors, no
/// request beyond the page itself, the expected elements (one thumbnail per head, one cell per value, one span per
/// token), tokens with markup characters shown as text, the colour scale centred at zero, and the hover and click
/// interactions. Screenshots and pages go to <see cref="ChromiumSession.ArtifactsDir"/>.
/// </summary>
public sealed class ViewBrowserTests(ChromiumSession chromium) : IClassFixture<ChromiumSession>
{
    // Tokens that break naive markup: a tag, an entity, quotes, a script close, a newline, leading spaces.
    private static readonly string[] s_tokens =
        ["<|endoftext|>", "<b>bold</b>", " &amp;", "\"q\"", "'s", "</script>", " the", "\n", "  two", "x<y", "&", "end"];

    private const string White = "rgb(255, 255, 255)", FullRed = "rgb(178, 24, 43)", FullBlue = "rgb(33, 102, 172)";
    // Half intensity, worked out by hand: 255 + (178 - 255) / 2 = 216.5 -> 217, etc.
    private const string HalfRed = "rgb(217, 140, 149)", HalfBlue = "rgb(144, 179, 214)";

    [ChromiumFact]
    public async Task AttentionViewHasOneThumbnailPerHeadAndFollowsClicksAndHovers()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var (_, cache) = model.RunWithCache(HookTestUtil.Input("gpt2-tiny"), name => name == "blocks.1.attn.hook_pattern");
        Tensor pattern = cache["pattern", 1][0];                      // [head, q, k] = [4, 12, 12]
        var p = pattern.ToArray<float>();
        float At(int h, int q, int k) => p[(h * 12 + q) * 12 + k];
        var view = new AttentionPatternView(s_tokens, pattern, layer: 1);

        await using var page = await chromium.Render("attention", view.ToHtml());
        Assert.Equal("1", await page.Eval<string>("document.documentElement.getAttribute('data-mi-ready')"));
        Assert.Equal(4, await page.Eval<int>("document.querySelectorAll('.mi-head').length"));
        Assert.Equal(4, await page.Eval<int>("document.querySelectorAll('.mi-head canvas').length"));
        Assert.Equal(["L1H0", "L1H1", "L1H2", "L1H3"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-head-label')].map(e => e.textContent)"));
        Assert.Equal(s_tokens, (await page.Eval<string[]>("[...document.querySelectorAll('.mi-attn-tokens .mi-token')].map(e => e.textContent)")).Select(Undisplay).ToArray());
        Assert.Equal(0, await page.Eval<int>("document.querySelectorAll('.mi-view b, .mi-view script:not(.mi-data)').length"));

        // Head 0 is selected first; its grid has one cell per (query, key) with the pattern's value.
        Assert.Equal(144, await page.Eval<int>("document.querySelectorAll('.mi-attn-grid rect.mi-attn-cell').length"));
        Assert.Equal("0", await page.Eval<string>("document.querySelector('.mi-attn-grid').getAttribute('data-head')"));
        AssertClose(At(0, 5, 3), await CellValue(page, 5, 3));

        await page.Page.ClickAsync(".mi-head[data-head='2']");
        Assert.Equal("2", await page.Eval<string>("document.querySelector('.mi-attn-grid').getAttribute('data-head')"));
        Assert.Equal("L1H2", await page.Eval<string>("document.querySelector('.mi-head.mi-selected .mi-head-label').textContent"));
        for (int q = 0; q < 12; q += 5)
            for (int k = 0; k <= q; k += 2) AssertClose(At(2, q, k), await CellValue(page, q, k));
        AssertClose(0, await CellValue(page, 3, 9));                  // causal: a later key gets nothing

        // Hovering a grid cell shows its tokens, escaped as text.
        await page.Page.HoverAsync(".mi-attn-grid rect[data-q='5'][data-k='1']");
        string tip = await page.Eval<string>("document.querySelector('.mi-tip').textContent");
        Assert.Contains("'</script>' (5) \u2192 '<b>bold</b>' (1)", tip);

        // Hovering token 7 (as query) colours token k by the selected head's weight pattern[2][7][k].
        await page.Page.HoverAsync(".mi-attn-tokens .mi-token[data-pos='7']");
        var backgrounds = await page.Eval<string[]>("[...document.querySelectorAll('.mi-attn-tokens .mi-token')].map(e => getComputedStyle(e).backgroundColor)");
        for (int k = 0; k < 12; k++)
            Assert.Equal(CssRgb(new ColorScale(1, true).Css(-At(2, 7, k))), backgrounds[k]);
        await page.ScreenshotAsync();
        page.AssertNoErrors();
        Assert.Single(page.Requests);
    }

    [ChromiumFact]
    public async Task TokenActivationViewColoursEachTokenOnAScaleCentredAtZero()
    {
        double[] values = [-2, -1, 0, 1, 2, 0.5, double.NaN, 0, 0, 0, 0, 0];
        var view = new TokenActivationView(s_tokens, values, "Neuron 17", valueName: "blocks.0.mlp.hook_post[17]");
        await using var page = await chromium.Render("token-activations", view.ToHtml());
        Assert.Equal(12, await page.Eval<int>("document.querySelectorAll('.mi-tokens .mi-token').length"));
        Assert.Equal(s_tokens, (await page.Eval<string[]>("[...document.querySelectorAll('.mi-tokens .mi-token')].map(e => e.textContent)")).Select(Undisplay).ToArray());
        var bg = await page.Eval<string[]>("[...document.querySelectorAll('.mi-tokens .mi-token')].map(e => getComputedStyle(e).backgroundColor)");
        Assert.Equal([FullBlue, HalfBlue, White, HalfRed, FullRed], bg[..5]);
        Assert.Equal("rgb(200, 200, 200)", bg[6]);                    // NaN: grey
        Assert.Equal(["-2", "2"], await page.Eval<string[]>("[document.querySelector('.mi-legend-min').textContent, document.querySelector('.mi-legend-max').textContent]"));
        await page.Page.HoverAsync(".mi-token[data-pos='1']");
        Assert.Equal("'<b>bold</b>' (position 1): -1", await page.Eval<string>("document.querySelector('.mi-tip').textContent"));
        await page.ScreenshotAsync();
        page.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task HeatmapViewHasOneCellPerValueOnASharedScaleCentredAtZero()
    {
        // [component, layer, position] like a per-block patching sweep; panel 1 holds the extremes.
        var values = new double[2, 3, 4];
        for (int c = 0; c < 2; c++) for (int l = 0; l < 3; l++) for (int pos = 0; pos < 4; pos++) values[c, l, pos] = 0.1 * (l - pos) * (c + 1);
        values[1, 0, 0] = 4; values[1, 2, 3] = -4; values[0, 1, 1] = 0; values[0, 1, 2] = 2; values[0, 2, 0] = -2;
        var view = new HeatmapView(values, ["attn_out", "<mlp_out>"], ["L0", "L1", "L2"], ["<bos>", " When", " Mary", "&"],
            "Patching: logit difference", metricName: "logit diff", rowAxis: "layer", columnAxis: "position");
        await using var page = await chromium.Render("heatmap", view.ToHtml());
        Assert.Equal(2, await page.Eval<int>("document.querySelectorAll('.mi-panel').length"));
        Assert.Equal(24, await page.Eval<int>("document.querySelectorAll('td.mi-cell').length"));
        Assert.Equal(["attn_out", "<mlp_out>"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-panel-title')].map(e => e.textContent)"));
        Assert.Equal(["<bos>", " When", " Mary", "&"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-panel')[0].querySelectorAll('th.mi-col-label')].map(e => e.textContent)"));
        Assert.Equal(["L0", "L1", "L2"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-panel')[1].querySelectorAll('th.mi-row-label')].map(e => e.textContent)"));
        string Bg(int panel, int row, int col) =>
            $"getComputedStyle(document.querySelectorAll('.mi-panel')[{panel}].querySelector('td[data-row=\"{row}\"][data-col=\"{col}\"]')).backgroundColor";
        Assert.Equal(FullRed, await page.Eval<string>(Bg(1, 0, 0)));
        Assert.Equal(FullBlue, await page.Eval<string>(Bg(1, 2, 3)));
        Assert.Equal(White, await page.Eval<string>(Bg(0, 1, 1)));
        Assert.Equal(HalfRed, await page.Eval<string>(Bg(0, 1, 2)));  // 2 of 4: half, on the scale shared by both panels
        Assert.Equal(HalfBlue, await page.Eval<string>(Bg(0, 2, 0)));
        Assert.Equal(["-4", "4"], await page.Eval<string[]>("[document.querySelector('.mi-legend-min').textContent, document.querySelector('.mi-legend-max').textContent]"));
        await page.Page.HoverAsync(".mi-panel[data-panel='1'] td[data-row='0'][data-col='3']");
        Assert.Equal("<mlp_out>, layer L0, position &: -0.6", await page.Eval<string>("document.querySelector('.mi-tip').textContent"));
        await page.ScreenshotAsync();
        page.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task TableViewShowsRowsOfCellsColouredByValue()
    {
        // A logit-lens table: layer, then the top tokens with probabilities.
        var rows = new List<IReadOnlyList<TableCell>>
        {
            new TableCell[] { "embed", new(" Mary", 0.5), new("<b>", 0.25) },
            new TableCell[] { "L0", new(" John&", 1.0, "p = 1.0"), new(" \"the\"", 0.0) },
        };
        var view = new TableView(["layer", "top 1", "top 2"], rows, "Logit lens", valueName: "probability");
        await using var page = await chromium.Render("table", view.ToHtml());
        Assert.Equal(2, await page.Eval<int>("document.querySelectorAll('table.mi-table tbody tr').length"));
        Assert.Equal(["layer", "top 1", "top 2"], await page.Eval<string[]>("[...document.querySelectorAll('table.mi-table thead th')].map(e => e.textContent)"));
        Assert.Equal(["embed", " Mary", "<b>", "L0", " John&", " \"the\""], await page.Eval<string[]>("[...document.querySelectorAll('td.mi-tcell')].map(e => e.textContent)"));
        var bg = await page.Eval<string[]>("[...document.querySelectorAll('td.mi-tcell')].map(e => getComputedStyle(e).backgroundColor)");
        Assert.Equal(HalfRed, bg[1]);                                  // 0.5 of max 1.0, sequential from white
        Assert.Equal(FullRed, bg[4]);
        Assert.Equal(White, bg[5]);
        await page.Page.HoverAsync("td.mi-tcell[data-row='1'][data-col='1']");
        Assert.Equal("p = 1.0", await page.Eval<string>("document.querySelector('.mi-tip').textContent"));
        await page.ScreenshotAsync();
        page.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task SaeLatentDashboardShowsContextsHistogramAndLogitEffects()
    {
        // Equal-width edges from the smallest to the largest sample: (4 - 0.5) / 4 = 0.875 apart.
        var hist = ActivationHistogram.FromSamples([0.5, 0.7, 1.5, 3.2, 4.0], bins: 4);
        Assert.Equal([0.5, 1.375, 2.25, 3.125, 4.0], hist.BinEdges);
        var record = new SaeLatentRecord(42,
            [
                new ActivatingContext(["The", " cat", " <sat>"], [0.0, 4.0, 1.0]),
                new ActivatingContext(["&", " dog"], [2.0, 0.0]),
                new ActivatingContext([" \"x\"", " y", " z", " w"], [0.0, 0.0, 1.0, 3.2]),
            ],
            ActivationHistogram.FromSamples([0.0, 0.5, 1.5, 3.2, 4.0], bins: 4),
            TopLogits: [new(" cats", 1.5), new(" <dog>", 0.75)], BottomLogits: [new(" the", -1.5), new("&", -0.1)],
            FiringDensity: 0.01, HookName: "blocks.0.hook_resid_post");
        var view = new SaeLatentDashboard(record);
        await using var page = await chromium.Render("sae-latent", view.ToHtml());
        Assert.Equal("Latent 42", await page.Eval<string>("document.querySelector('.mi-title').textContent"));
        Assert.Equal(3, await page.Eval<int>("document.querySelectorAll('.mi-context').length"));
        Assert.Equal(9, await page.Eval<int>("document.querySelectorAll('.mi-context .mi-token').length"));
        Assert.Equal([" cat", "&", " w"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-context .mi-token.mi-max')].map(e => e.textContent)"));
        Assert.Equal(FullRed, await page.Eval<string>("getComputedStyle(document.querySelector('.mi-context .mi-token.mi-max')).backgroundColor"));
        // Bins of [0, 4] in quarters: [0,1): 0.0 0.5 | [1,2): 1.5 | [2,3): - | [3,4]: 3.2 4.0
        Assert.Equal(["2", "1", "0", "2"], await page.Eval<string[]>("[...document.querySelectorAll('rect.mi-hist-bar')].map(e => e.getAttribute('data-count'))"));
        Assert.Equal([" cats", "1.5", " <dog>", "0.75"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-logits-top td')].map(e => e.textContent)"));
        Assert.Equal([" the", "-1.5", "&", "-0.1"], await page.Eval<string[]>("[...document.querySelectorAll('.mi-logits-bottom td')].map(e => e.textContent)"));
        Assert.Equal(FullBlue, await page.Eval<string>("getComputedStyle(document.querySelectorAll('.mi-logits-bottom td')[1]).backgroundColor"));
        Assert.Contains("firing density 0.01", await page.Eval<string>("document.querySelector('.mi-sae-stats').textContent"));
        await page.Page.HoverAsync("rect.mi-hist-bar:last-of-type");
        Assert.Equal("[3, 4]: 2", await page.Eval<string>("document.querySelector('.mi-tip').textContent"));
        await page.ScreenshotAsync();
        page.AssertNoErrors();
    }

    [ChromiumFact]
    public async Task ReportAndFragmentsPutSeveralViewsOnOnePage()
    {
        var pattern = Enumerable.Range(0, 2).Select(h => Enumerable.Range(0, 3).Select(q =>
            Enumerable.Range(0, 3).Select(k => k <= q ? 1f / (q + 1) : 0f).ToArray()).ToArray()).ToArray();   // uniform causal
        string[] tokens = ["<s>", "a", "b"];
        var report = new HtmlReport("Report <1>")
            .AddHeading("Attention & heads").AddParagraph("Two heads.\nUniform causal attention.")
            .Add(new AttentionPatternView(tokens, pattern, ["A", "B"]))
            .Add(new HeatmapView(new double[,] { { 1, -1 } }, columnLabels: ["x", "y"]))
            .Add(new AttentionPatternView(tokens, pattern, layer: 3));
        await using (var page = await chromium.Render("report", report.ToHtml()))
        {
            Assert.Equal("Report <1>", await page.Eval<string>("document.title"));
            Assert.Equal(3, await page.Eval<int>("document.querySelectorAll('section.mi-view[data-mi-ready=\"1\"]').length"));
            Assert.Equal(2, await page.Eval<int>("document.querySelectorAll('svg.mi-attn-grid[data-head=\"0\"]').length"));
            Assert.Equal(18, await page.Eval<int>("document.querySelectorAll('rect.mi-attn-cell').length"));
            Assert.Equal(1, await page.Eval<int>("document.querySelectorAll('.mi-tip').length"));
            await page.ScreenshotAsync();
            page.AssertNoErrors();
            Assert.Single(page.Requests);
        }

        // Two view fragments and a report fragment, as three notebook outputs would be: each brings the runtime, each
        // view is set up once.
        var fragment = new AttentionPatternView(tokens, pattern).ToHtmlFragment();
        string doc = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>fragments</title></head><body>" + fragment + fragment
            + report.ToHtmlFragment() + "</body></html>";
        await using var frag = await chromium.Render("fragments", doc);
        Assert.Equal(5, await frag.Eval<int>("document.querySelectorAll('section.mi-view[data-mi-ready=\"1\"]').length"));
        Assert.Equal(36, await frag.Eval<int>("document.querySelectorAll('rect.mi-attn-cell').length"));
        Assert.Equal(8, await frag.Eval<int>("document.querySelectorAll('.mi-head canvas').length"));
        Assert.Equal(1, await frag.Eval<int>("document.querySelectorAll('.mi-tip').length"));
        frag.AssertNoErrors();
    }

    private static Task<double> CellValue(ChromiumSession.RenderedPage page, int q, int k) =>
        page.Eval<string>($"document.querySelector('.mi-attn-grid rect[data-q=\"{q}\"][data-k=\"{k}\"]').getAttribute('data-value')")
            .ContinueWith(t => double.Parse(t.Result, CultureInfo.InvariantCulture));

    /// <summary>Four significant digits (what the page shows) or 1e-6 absolute near zero.</summary>
    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= Math.Max(1e-6, 5e-4 * Math.Abs(expected)), $"cell value {actual} instead of {expected}");

    /// <summary>The page shows a newline token as ↵; map it back.</summary>
    private static string Undisplay(string shown) => shown.Replace("\u21B5", "\n", StringComparison.Ordinal);

    /// <summary>Our "rgb(r,g,b)" as the browser reports it ("rgb(r, g, b)").</summary>
    private static string CssRgb(string css) => css.Replace(",", ", ", StringComparison.Ordinal);
}
