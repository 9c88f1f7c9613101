namespace MechInterp.Models;

/// <summary>How a hook point is used in one forward pass.</summary>
internal enum HookUse
{
    /// <summary>No hook, no attached module: the model may compute straight past the point (fused kernels).</summary>
    Unhooked,
    /// <summary>Only observers (RunWithCache): the point must be invoked with its exact value, but nobody changes it, so
    /// the model may compute what follows in the same pass.</summary>
    Observed,
    /// <summary>A hook may replace or edit the value (or a module is attached, or a backward hook waits): what follows
    /// must be computed from whatever the point returns.</summary>
    Edited,
}

/// <summary>
/// The one place that decides which math a forward pass may run. Made once per pass (one per
/// <see cref="AttentionContext"/>); the components ask it through named questions instead of reading hook and
/// gradient state themselves. The use of a hook point is decided the first time the pass asks and then fixed for
/// the pass, so a hook registered while a pass runs takes effect from the next pass.
/// </summary>
internal sealed class ForwardPlan
{
    private readonly Dictionary<HookPoint, HookUse> _uses = new(ReferenceEqualityComparer.Instance);

    /// <summary>A plan for a pass starting now.</summary>
    public static ForwardPlan Begin() => new();

    /// <summary>How <paramref name="point"/> is used in this pass.</summary>
    public HookUse UseOf(HookPoint point)
    {
        lock (_uses)
        {
            if (!_uses.TryGetValue(point, out var use))
                _uses[point] = use = !point.IsActive ? HookUse.Unhooked : point.IsObservedOnly ? HookUse.Observed : HookUse.Edited;
            return use;
        }
    }

    /// <summary>True when something sees <paramref name="point"/> (a hook, an observer or a module).</summary>
    public bool IsHooked(HookPoint point) => UseOf(point) != HookUse.Unhooked;

    /// <summary>True when nothing can change the value at <paramref name="point"/> (unhooked or only observed).</summary>
    public bool IsUnchanged(HookPoint point) => UseOf(point) != HookUse.Edited;

    /// <summary>True when an op on these tensors records a gradient (grad mode on and one of them requires it): such
    /// work must stay in differentiable ops, never in place.</summary>
    public static bool Records(Tensor a, Tensor? b = null, Tensor? c = null) =>
        GradMode.IsEnabled && (a.RequiresGrad || b?.RequiresGrad == true || c?.RequiresGrad == true);
}
