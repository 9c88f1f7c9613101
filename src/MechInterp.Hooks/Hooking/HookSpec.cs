namespace MechInterp;

/// <summary>Which hook points a hook applies to: an exact name or a name filter, with the hook function.</summary>
public readonly record struct HookSpec
{
    /// <summary>Hook by exact name.</summary>
    public HookSpec(string name, HookFn fn)
    {
        Name = name;
        Fn = fn;
    }

    /// <summary>Hook every point whose name passes <paramref name="filter"/>.</summary>
    public HookSpec(Func<string, bool> filter, HookFn fn)
    {
        Filter = filter;
        Fn = fn;
    }

    /// <summary>Exact name, when given.</summary>
    public string? Name { get; }
    /// <summary>Name filter, when given.</summary>
    public Func<string, bool>? Filter { get; }
    /// <summary>The hook.</summary>
    public HookFn Fn { get; }
    /// <summary>Run before every hook registered earlier on the same point (TransformerLens's <c>prepend=True</c>).</summary>
    public bool Prepend { get; init; }

    /// <summary>From a (name, fn) tuple.</summary>
    public static implicit operator HookSpec((string Name, HookFn Fn) t) => new(t.Name, t.Fn);
    /// <summary>From a (name, lambda) tuple.</summary>
    public static implicit operator HookSpec((string Name, Func<Tensor, HookPoint, Tensor?> Fn) t) => new(t.Name, new HookFn(t.Fn));
    /// <summary>From a (filter, fn) tuple.</summary>
    public static implicit operator HookSpec((Func<string, bool> Filter, HookFn Fn) t) => new(t.Filter, t.Fn);

    /// <summary>The hook points this spec selects (exact names are validated).</summary>
    internal IEnumerable<HookPoint> Resolve(IReadOnlyDictionary<string, HookPoint> hooks, Func<string, HookPoint> lookup)
    {
        if (Name is not null) return [lookup(Name)];
        var filter = Filter!;
        return hooks.Values.Where(h => filter(h.Name)).ToArray();
    }
}
