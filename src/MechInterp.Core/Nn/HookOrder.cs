namespace MechInterp;

/// <summary>
/// Registration order of hooks across a process. TransformerLens runs the hooks of a point in the order they were
/// registered (PyTorch's forward-hook order), whether they came from <c>add_hook</c> or a <c>hooks()</c> context;
/// every registration here takes the next number, and a point runs its hooks by ascending number. A prepended hook
/// takes a negative number, so it runs before every hook registered so far (PyTorch's <c>prepend=True</c>).
/// </summary>
internal static class HookOrder
{
    private static long s_next;
    private static long s_prepended;

    /// <summary>The number of a hook registered now: after all earlier ones, or before them when prepended.</summary>
    internal static long Next(bool prepend = false) =>
        prepend ? -Interlocked.Increment(ref s_prepended) : Interlocked.Increment(ref s_next);
}

/// <summary>A hook with its registration number.</summary>
internal readonly record struct OrderedHook(long Order, HookFn Fn);
