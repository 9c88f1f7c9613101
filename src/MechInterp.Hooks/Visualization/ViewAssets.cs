using System.Reflection;

namespace MechInterp.Visualization;

/// <summary>The stylesheet and script every view page embeds, read once from the assembly's resources
/// (Visualization/Assets/mi-views.css and mi-views.js).</summary>
internal static class ViewAssets
{
    private static readonly Lazy<string> s_css = new(() => Read("MechInterp.Visualization.mi-views.css"));
    private static readonly Lazy<string> s_script = new(() => Read("MechInterp.Visualization.mi-views.js"));

    public static string Css => s_css.Value;

    /// <summary>The runtime script. It never contains "&lt;/script" (checked when read), so it can be inlined.</summary>
    public static string Script => s_script.Value;

    private static string Read(string name)
    {
        using var stream = typeof(ViewAssets).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource '{name}' is missing from {typeof(ViewAssets).Assembly.GetName().Name}: the build must embed Visualization/Assets");
        using var reader = new StreamReader(stream);
        string text = reader.ReadToEnd();
        if (text.Contains("</script", StringComparison.OrdinalIgnoreCase) || text.Contains("</style", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"embedded resource '{name}' contains a closing script/style tag and cannot be inlined");
        return text;
    }
}
