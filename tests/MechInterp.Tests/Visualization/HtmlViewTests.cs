using MechInterp.Visualization;
using Xunit;

namespace MechInterp.Tests.Visualization;

/// <summary>What the views write without a browser: escaping of every piece of text, data that cannot close its
/// script element, self-containment (no external URL), files, and the errors bad input gets.</summary>
public sealed class HtmlViewTests
{
    private static readonly string[] s_evil = ["</script><script>alert(1)</script>", "<img src=x onerror=alert(2)>", "a\"b'c&d"];

    private static float[][][] Uniform(int heads, int n) => Enumerable.Range(0, heads).Select(_ => Enumerable.Range(0, n).Select(q =>
        Enumerable.Range(0, n).Select(k => k <= q ? 1f / (q + 1) : 0f).ToArray()).ToArray()).ToArray();

    private static IEnumerable<HtmlView> Views()
    {
        yield return new AttentionPatternView(s_evil, Uniform(2, 3), headLabels: ["<h1>", "&"], title: "<title>");
        yield return new TokenActivationView(s_evil, [1.0, -1.0, 0.5], title: "<i>t</i>", valueName: "<v>");
        yield return new HeatmapView(new double[,] { { 1, 2, 3 } }, ["<r>"], s_evil, "<t>", "<m>", "<ra>", "<ca>");
        yield return new TableView(["<c1>", "c2"], [new TableCell[] { s_evil[0], new(s_evil[1], 1.0, s_evil[2]) }], "<tb>");
        yield return new SaeLatentDashboard(new SaeLatentRecord(3, [new ActivatingContext(s_evil, [0, 1, 2])],
            ActivationHistogram.FromSamples([1, 2, 3]), [new(s_evil[1], 1)], [new(s_evil[0], -1)], HookName: "<hook>"));
    }

    [Fact]
    public void NoTextEscapesIntoMarkupAndNothingIsFetched()
    {
        foreach (var view in Views())
        {
            string html = view.ToHtml();
            string kind = view.GetType().Name;
            Assert.DoesNotContain("<script><script>", html);
            Assert.DoesNotContain("alert(1)</script>", html);
            Assert.DoesNotContain("<img", html);
            Assert.DoesNotContain("<h1>", html);
            Assert.DoesNotContain("<i>", html);
            Assert.DoesNotContain("a\"b'c", html);
            // Only the page's own script and the view's data block are script elements, each closed once.
            int opened = CountOf(html, "<script"), closed = CountOf(html, "</script>");
            Assert.True(opened == closed && opened <= 2, $"{kind}: {opened} script openings, {closed} closings");
            Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", "", StringComparison.Ordinal));
            Assert.DoesNotContain("https://", html);
            Assert.Contains("Content-Security-Policy", html);
            Assert.StartsWith("<!DOCTYPE html>", html);
            string fragment = view.ToHtmlFragment();
            Assert.DoesNotContain("<html", fragment);
            Assert.Contains("data-mi-view=", fragment);
        }
    }

    [Fact]
    public void SaveHtmlWritesTheDocumentAndCreatesTheFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mechinterp-views-" + Guid.NewGuid().ToString("N"), "nested");
        try
        {
            var view = new TokenActivationView(["a", "b"], [1.0, 2.0]);
            string path = Path.Combine(dir, "t.html");
            view.SaveHtml(path);
            Assert.Equal(view.ToHtml(), File.ReadAllText(path));
            var bytes = File.ReadAllBytes(path);
            Assert.False(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB, "no byte-order mark");
            Assert.Throws<ArgumentException>(() => view.SaveHtml(" "));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public void BadInputGetsMessagesThatNameTheFix()
    {
        var e1 = Assert.Throws<ArgumentException>(() => new AttentionPatternView(["a", "b", "c"], Uniform(2, 2)));
        Assert.Contains("[n_heads, 3, 3]", e1.Message);
        var bad = Uniform(1, 2);
        bad[0][1][0] = float.NegativeInfinity;
        Assert.Contains("hook_pattern", Assert.Throws<ArgumentException>(() => new AttentionPatternView(["a", "b"], bad)).Message);
        Assert.Contains("2 labels but the data has 1 heads",
            Assert.Throws<ArgumentException>(() => new AttentionPatternView(["a", "b"], Uniform(1, 2), ["x", "y"])).Message);
        using var t4 = Tensor.Zeros([2, 4, 3, 3]);
        Assert.Contains("pattern[b]", Assert.Throws<ArgumentException>(() => new AttentionPatternView(["a", "b", "c"], t4)).Message);
        Assert.Contains("one value per token", Assert.Throws<ArgumentException>(() => new TokenActivationView(["a"], [1.0, 2.0])).Message);
        using var t1 = Tensor.Zeros([5]);
        Assert.Contains("[rows, columns]", Assert.Throws<ArgumentException>(() => new HeatmapView(t1)).Message);
        Assert.Contains("columnLabels", Assert.Throws<ArgumentException>(() => new HeatmapView(new double[2, 2], columnLabels: ["x"])).Message);
        Assert.Contains("one cell per column", Assert.Throws<ArgumentException>(() => new TableView(["a", "b"], [new TableCell[] { "x" }])).Message);
        Assert.Contains("one activation per token", Assert.Throws<ArgumentException>(() => new ActivatingContext(["a"], [])).Message);
        Assert.Contains("ascending", Assert.Throws<ArgumentException>(() => new ActivationHistogram([1.0, 1.0], [3])).Message);
        Assert.Contains("never fired", Assert.Throws<ArgumentException>(() => ActivationHistogram.FromSamples([double.NaN])).Message);
    }

    [Fact]
    public void TensorInputsMatchArrayInputs()
    {
        var pattern = Uniform(2, 3);
        using var t = Tensor.FromArray(pattern.SelectMany(h => h.SelectMany(r => r)).ToArray(), 1, 2, 3, 3);
        string[] tokens = ["a", "b", "c"];
        Assert.Equal(new AttentionPatternView(tokens, pattern).ToHtml(), new AttentionPatternView(tokens, t).ToHtml());
        using var m = Tensor.FromArray(new double[] { 1, -2, 3, -4, 5, -6 }, 2, 3);
        Assert.Equal(new HeatmapView(new double[,] { { 1, -2, 3 }, { -4, 5, -6 } }).ToHtml(), new HeatmapView(m).ToHtml());
        using var v = Tensor.FromArray(new float[] { 0.5f, 1, 2 }, 1, 3);
        Assert.Equal(new TokenActivationView(tokens, [0.5, 1.0, 2.0]).ToHtml(), new TokenActivationView(tokens, v).ToHtml());
    }

    private static int CountOf(string s, string what)
    {
        int n = 0;
        for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
