namespace MechInterp;

/// <summary>
/// Base of every model component: an ordered tree of named sub-modules, parameters and hook points whose full
/// names follow TransformerLens (e.g. <c>blocks.0.attn.W_Q</c>, <c>blocks.0.attn.hook_q</c>).
/// </summary>
public abstract class Module
{
    private readonly List<(string Name, Module Child)> _children = [];
    private readonly List<Parameter> _parameters = [];
    private readonly List<HookPoint> _hooks = [];

    /// <summary>Creates a module whose names start with <paramref name="prefix"/> ("" for the root; else ends without a dot).</summary>
    protected Module(string prefix) => Prefix = prefix;

    /// <summary>The module's full name ("" for the root model).</summary>
    public string Prefix { get; }

    /// <summary>The full name of a member of this module.</summary>
    protected string FullName(string local) => Prefix.Length == 0 ? local : $"{Prefix}.{local}";

    /// <summary>Registers a hook point named <c>{Prefix}.{local}</c>.</summary>
    protected HookPoint Hook(string local)
    {
        var h = new HookPoint(FullName(local));
        _hooks.Add(h);
        return h;
    }

    /// <summary>Registers a hook point named <c>{Prefix}.{local}</c> right after <paramref name="after"/> (at the end when
    /// null or not registered here): for hook points switched on at run time, so forward order is kept.</summary>
    protected HookPoint HookAfter(string local, HookPoint? after)
    {
        var h = new HookPoint(FullName(local));
        int i = after is null ? -1 : _hooks.IndexOf(after);
        _hooks.Insert(i < 0 ? _hooks.Count : i + 1, h);
        return h;
    }

    /// <summary>Unregisters a hook point of this module (switched off at run time); null is ignored.</summary>
    protected void RemoveHook(HookPoint? hook)
    {
        if (hook is not null) _hooks.Remove(hook);
    }

    /// <summary>Registers a parameter.</summary>
    protected Parameter Param(string local, Tensor value)
    {
        var p = new Parameter(local, value);
        _parameters.Add(p);
        return p;
    }

    /// <summary>Registers a child module.</summary>
    protected T Child<T>(string local, T module) where T : Module
    {
        _children.Add((local, module));
        return module;
    }

    /// <summary>Every parameter with its full name, depth first in registration order.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach (var p in _parameters) yield return (FullName(p.Name), p);
        foreach (var (_, c) in _children)
            foreach (var np in c.NamedParameters()) yield return np;
    }

    /// <summary>Every hook point, depth first in registration order.</summary>
    public IEnumerable<HookPoint> HookPoints()
    {
        foreach (var h in _hooks) yield return h;
        foreach (var (_, c) in _children)
            foreach (var h in c.HookPoints()) yield return h;
    }

    /// <summary>Every parameter tensor (for optimizers).</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Parameter.Value);

    /// <summary>Casts every parameter to a floating-point <paramref name="dtype"/>; half precision needs a Torch device.</summary>
    protected void CastParameters(DType dtype, Device device)
    {
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"model weights must be floating point, not {dtype}");
        if (dtype is DType.Float16 or DType.BFloat16 && !device.IsTorch)
            throw new NotSupportedException($"{dtype} compute needs a Torch device (Device.Cuda(0) or Device.TorchCpu); the managed CPU backend computes in Float32");
        using var _ = GradMode.NoGrad();
        foreach (var (_, p) in NamedParameters()) p.Reset(p.Value.To(dtype));
    }

    /// <summary>Copies every parameter to <paramref name="device"/>.</summary>
    protected void MoveParameters(Device device)
    {
        using var _ = GradMode.NoGrad();
        foreach (var (_, p) in NamedParameters()) p.Reset(p.Value.To(device));
    }

    /// <summary>Switches gradient tracking of every parameter.</summary>
    public void SetRequiresGrad(bool value)
    {
        foreach (var (_, p) in NamedParameters()) p.Value.RequiresGrad = value;
    }

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p) in NamedParameters()) p.Value.ZeroGrad();
    }
}
