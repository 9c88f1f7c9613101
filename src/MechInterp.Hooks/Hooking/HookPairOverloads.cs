namespace MechInterp;

/// <summary>
/// Hooks written as <c>("name", (x, hook) => ...)</c> pairs. A lambda inside a tuple has no type of its own, so such a
/// tuple cannot reach the <see cref="HookSpec"/> conversions; these overloads take the pairs directly, as in
/// <c>model.RunWithHooks(tokens, ("blocks.0.attn.hook_z", (z, hook) => z * 0))</c>.
/// </summary>
public static class HookPairOverloads
{
    /// <summary>Runs the model with forward hooks given as (name, lambda) pairs for this call only; returns the logits.</summary>
    public static Tensor RunWithHooks(this IHookedModel model, Tensor tokens, (string Name, HookFn Fn) hook, params (string Name, HookFn Fn)[] more) =>
        model.RunWithHooks(tokens, Specs(hook, more), null, null);

    /// <summary>Activates forward hooks given as (name, lambda) pairs until the result is disposed:
    /// <c>using (model.Hooks(("blocks.0.attn.hook_z", (z, hook) => z * 0))) { ... }</c>.</summary>
    public static IDisposable Hooks(this IHookedModel model, (string Name, HookFn Fn) hook, params (string Name, HookFn Fn)[] more) =>
        model.Hooks(Specs(hook, more));

    private static HookSpec[] Specs((string Name, HookFn Fn) hook, (string Name, HookFn Fn)[] more) =>
        [new HookSpec(hook.Name, hook.Fn), .. more.Select(h => new HookSpec(h.Name, h.Fn))];
}
