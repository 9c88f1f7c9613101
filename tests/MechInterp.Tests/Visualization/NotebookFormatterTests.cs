using MechInterp.Tests.Hooks;
using MechInterp.Visualization;
using Microsoft.DotNet.Interactive.Formatting;
using Xunit;

namespace MechInterp.Tests.Visualization;

/// <summary>MechInterp.Interactive's notebook formatters, through the same Formatter API a .NET Interactive kernel
/// uses: tensors as a header and a table of their first elements, caches as names and shapes, views as their HTML.</summary>
public sealed class NotebookFormatterTests
{
    [Fact]
    public void TensorsCachesAndViewsFormatAsHtml()
    {
        NotebookFormatters.Register();
        NotebookFormatters.Register();   // idempotent

        using var small = Tensor.FromArray(new float[] { 1.5f, -2, 3, 4, 5, 6 }, 2, 3);
        string html = small.ToDisplayString("text/html");
        Assert.Contains("Tensor [2, 3] Float32 on", html);
        Assert.Equal(6, CountOf(html, "<td"));
        foreach (var v in new[] { ">1.5<", ">-2<", ">6<" }) Assert.Contains(v, html);
        Assert.StartsWith("Tensor [2, 3] Float32", small.ToDisplayString("text/plain"));

        // A [3, 20, 40] tensor shows its first slice, 16 x 16, with the cut marked; element [0, r, c] = 40 r + c.
        using var big = Tensor.FromArray(Enumerable.Range(0, 3 * 20 * 40).Select(i => (long)i).ToArray(), 3, 20, 40);
        string bigHtml = big.ToDisplayString("text/html");
        Assert.Contains("Tensor [3, 20, 40] Int64", bigHtml);
        Assert.Contains("[0, :, :]", bigHtml);
        Assert.Equal(16 * 16 + 16, CountOf(bigHtml, "<td") - 1);      // 16 x 16 values, 16 row ellipses, one column-ellipsis row
        Assert.Contains(">615<", bigHtml);                              // [0, 15, 15]
        Assert.DoesNotContain(">616<", bigHtml);                        // [0, 15, 16] is cut

        var (_, cache) = HookTestUtil.Shared("gpt2-tiny").RunWithCache(HookTestUtil.Input("gpt2-tiny"));
        using (cache)
        {
            string cacheHtml = cache.ToDisplayString("text/html");
            Assert.Contains($"ActivationCache ({cache.Count} activations)", cacheHtml);
            foreach (var name in cache.Keys) Assert.Contains($">{name}</td><td style=\"padding:1px 8px\">[{string.Join(", ", cache[name].Shape)}]<", cacheHtml);
        }

        var view = new TokenActivationView(["<a>", "b"], [1.0, -1.0]);
        Assert.Equal(view.ToHtmlFragment(), view.ToDisplayString("text/html"));
        var report = new HtmlReport("r").Add(view);
        Assert.Equal(report.ToHtmlFragment(), report.ToDisplayString("text/html"));
    }

    private static int CountOf(string s, string what)
    {
        int n = 0;
        for (int i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }
}
