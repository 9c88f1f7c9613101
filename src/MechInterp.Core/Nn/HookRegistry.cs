namespace MechInterp;

/// <summary>
/// A model's hook points by name, and the hooks and modules registered on them until reset (TransformerLens's
/// <c>hook_dict</c>, <c>add_hook</c>, <c>reset_hooks</c>). One type shared by every hooked model, so the two models
/// do not each carry a copy. The set of names grows while modules are attached (<see cref="Attach"/>): their hook
/// points appear right after the point they are attached to, and disappear when detached. Per-call hooks are not kept
/// here but in a <see cref="HookContext"/>.
/// </summary>
public sealed class HookRegistry
{
    private HookPoint[] _own;
    private readonly int _nLayers;
    private readonly object _gate = new();
    private readonly List<(HookPoint At, IHookModule Module)> _attached = [];
    private Dictionary<string, HookPoint> _all;

    /// <summary>Creates a registry over a model's own hook points, in forward order.</summary>
    public HookRegistry(IEnumerable<HookPoint> points, int nLayers)
    {
        _own = points.ToArray();
        _nLayers = nLayers;
        _all = Build(_own, _attached);
    }

    /// <summary>Every hook point by name in forward order, attached modules' points included.</summary>
    public IReadOnlyDictionary<string, HookPoint> All => _all;

    /// <summary>The hook point called <paramref name="name"/>; throws <see cref="UnknownHookException"/> naming the nearest valid names.</summary>
    public HookPoint Get(string name) =>
        _all.TryGetValue(name, out var h) ? h : throw UnknownHookException.For(name, _all.Keys, _nLayers);

    /// <summary>The modules attached now, with the names of their attachment points, in attachment order.</summary>
    public IReadOnlyList<(string HookName, IHookModule Module)> Attached
    {
        get { lock (_gate) return _attached.Select(a => (a.At.Name, a.Module)).ToArray(); }
    }

    /// <summary>
    /// Splices <paramref name="module"/> in at the hook point <paramref name="hookName"/> until the result is disposed (or
    /// <see cref="DetachAll"/>): the activation there passes through the module after the point's own hooks, and the
    /// module's hook points join <see cref="All"/>. Throws when a module hook point's name does not start with
    /// <c>hookName + "."</c> or is taken already.
    /// </summary>
    public IDisposable Attach(string hookName, IHookModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        lock (_gate)
        {
            var at = Get(hookName);
            foreach (var p in module.HookPoints)
            {
                if (!p.Name.StartsWith(hookName + ".", StringComparison.Ordinal))
                    throw new ArgumentException($"a module attached at '{hookName}' must name its hook points '{hookName}.<name>', but has '{p.Name}': create its hook points with the attachment point's name as prefix", nameof(module));
                if (_all.ContainsKey(p.Name))
                    throw new InvalidOperationException($"hook point '{p.Name}' exists already: a module with the same hook names is attached at '{hookName}'; detach it first (model.HookRegistry.DetachAll() or dispose its handle)");
            }
            at.AttachModule(module);
            _attached.Add((at, module));
            _all = Build(_own, _attached);
        }
        return new Detacher(this, module);
    }

    /// <summary>Detaches <paramref name="module"/>; false when it was not attached.</summary>
    public bool Detach(IHookModule module)
    {
        lock (_gate)
        {
            int i = _attached.FindIndex(a => ReferenceEquals(a.Module, module));
            if (i < 0) return false;
            _attached[i].At.DetachModule(module);
            _attached.RemoveAt(i);
            _all = Build(_own, _attached);
            return true;
        }
    }

    /// <summary>Detaches every attached module.</summary>
    public void DetachAll()
    {
        lock (_gate)
        {
            foreach (var (at, module) in _attached) at.DetachModule(module);
            _attached.Clear();
            _all = Build(_own, _attached);
        }
    }

    /// <summary>Replaces the model's own hook points (after hook points were switched on or off at run time, e.g.
    /// SetUseAttnResult). Points that stay keep their hooks; attached modules must sit on points that stay.</summary>
    internal void ReplacePoints(IEnumerable<HookPoint> points)
    {
        lock (_gate)
        {
            var next = points.ToArray();
            var kept = next.ToHashSet(ReferenceEqualityComparer.Instance);
            foreach (var (at, module) in _attached)
                if (!kept.Contains(at) && _own.Contains(at))
                    throw new InvalidOperationException($"hook point '{at.Name}' would disappear but has a module ({module.GetType().Name}) attached: detach it first (dispose its handle or HookRegistry.Detach)");
            _own = next;
            _all = Build(_own, _attached);
        }
    }

    /// <summary>Registers a hook on the point <paramref name="name"/> until <see cref="Reset"/>; dispose the result to remove it.</summary>
    public IDisposable AddHook(string name, HookFn fn, HookDirection direction = HookDirection.Forward, bool permanent = false, bool prepend = false) =>
        Get(name).AddHook(fn, direction, permanent, prepend);

    /// <summary>Registers a hook on every point whose name passes <paramref name="filter"/>.</summary>
    public IDisposable AddHook(Func<string, bool> filter, HookFn fn, HookDirection direction = HookDirection.Forward, bool permanent = false, bool prepend = false)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var handles = _all.Values.Where(h => filter(h.Name)).Select(h => h.AddHook(fn, direction, permanent, prepend)).ToArray();
        return new Composite(handles);
    }

    /// <summary>Removes registered hooks of one direction or both (permanent ones too when asked) and, with
    /// <paramref name="clearContexts"/>, empties every point's persistent <see cref="HookPoint.Ctx"/>; attached modules
    /// stay (TransformerLens's reset_hooks).</summary>
    public void Reset(bool includePermanent = false, HookDirection? direction = null, bool clearContexts = false)
    {
        foreach (var h in _all.Values)
        {
            h.RemoveHooks(direction, includePermanent);
            if (clearContexts) h.ClearContext();
        }
    }

    /// <summary>True when a hook is registered on some point or a module is attached.</summary>
    public bool AnyRegistered
    {
        get
        {
            if (_attached.Count > 0) return true;
            foreach (var h in _all.Values) if (h.HookCount > 0) return true;
            return false;
        }
    }

    /// <summary>True when a backward hook is registered on some point.</summary>
    public bool AnyBackwardRegistered
    {
        get
        {
            foreach (var h in _all.Values) if (h.HasBackwardHooks) return true;
            return false;
        }
    }

    private static Dictionary<string, HookPoint> Build(HookPoint[] own, List<(HookPoint At, IHookModule Module)> attached)
    {
        var all = new Dictionary<string, HookPoint>(StringComparer.Ordinal);
        void Add(HookPoint p)
        {
            all[p.Name] = p;
            foreach (var (at, module) in attached) // a module's points follow its attachment point, nested ones too
                if (ReferenceEquals(at, p))
                    foreach (var q in module.HookPoints) Add(q);
        }
        foreach (var p in own) Add(p);
        return all;
    }

    private sealed class Detacher(HookRegistry owner, IHookModule module) : IDisposable
    {
        public void Dispose() => owner.Detach(module);
    }

    private sealed class Composite(IDisposable[] items) : IDisposable
    {
        public void Dispose() { foreach (var i in items) i.Dispose(); }
    }
}
