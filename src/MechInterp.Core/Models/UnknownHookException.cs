namespace MechInterp;

/// <summary>A hook name that the model does not have.</summary>
public sealed class UnknownHookException : KeyNotFoundException
{
    private UnknownHookException(string name, string message) : base(message) => HookName = name;

    /// <summary>The name that was asked for.</summary>
    public string HookName { get; }

    internal static UnknownHookException For(string name, IEnumerable<string> valid, int nLayers)
    {
        var names = valid.ToArray();
        string detail = "";
        if (name.StartsWith("blocks.", StringComparison.Ordinal))
        {
            int dot = name.IndexOf('.', 7);
            if (dot > 7 && int.TryParse(name.AsSpan(7, dot - 7), out var layer) && (layer < 0 || layer >= nLayers))
                detail = $": the model has {nLayers} layers (0-{nLayers - 1})";
        }
        var nearest = names.OrderBy(n => Distance(n, name)).Take(3);
        return new UnknownHookException(name,
            $"hook '{name}' does not exist{detail}. Nearest valid names: {string.Join(", ", nearest.Select(n => $"'{n}'"))} (see model.HookDict.Keys for all {names.Length})");
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
