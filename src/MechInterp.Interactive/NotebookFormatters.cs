using Microsoft.DotNet.Interactive.Formatting;
using MechInterp.Visualization;

namespace MechInterp;

/// <summary>
/// Formatters for .NET Interactive / Jupyter notebooks (Microsoft.DotNet.Interactive.Formatting). After
/// <see cref="Register"/>, a cell whose value is a <see cref="Tensor"/> shows its shape, dtype and device above a
/// table of (the first) elements, an <see cref="ActivationCache"/> shows its hook names and shapes, and an
/// <see cref="HtmlView"/> or <see cref="HtmlReport"/> shows as its interactive picture.
/// </summary>
/// <example><code>
/// #r "nuget: MechInterp.Interactive, 0.1.0"
/// MechInterp.NotebookFormatters.Register();
/// cache["pattern", 0]          // shown as a table
/// </code></example>
public static class NotebookFormatters
{
    private static readonly object s_gate = new();
    private static bool s_registered;

    /// <summary>Registers the formatters (once; later calls do nothing). Call it in a notebook's first cells.</summary>
    public static void Register()
    {
        lock (s_gate)
        {
            if (s_registered) return;
            Formatter.Register<Tensor>(TensorHtml.Html, "text/html");
            Formatter.Register<Tensor>(TensorHtml.Summary, "text/plain");
            Formatter.Register<ActivationCache>(CacheHtml.Html, "text/html");
            Formatter.Register<ActivationCache>(CacheHtml.Text, "text/plain");
            Formatter.Register<HtmlView>(v => v.ToHtmlFragment(), "text/html");
            Formatter.Register<HtmlView>(v => $"{v.GetType().Name}: {v.Title}", "text/plain");
            Formatter.Register<HtmlReport>(r => r.ToHtmlFragment(), "text/html");
            s_registered = true;
        }
    }
}
