namespace MechInterp;

/// <summary>
/// Where a generation is while a hook runs (<see cref="HookPoint.GenerationStep"/>): which step, how long the prompt
/// is, and which absolute position the pass's first position holds. With the key/value cache, step 0 runs the prompt
/// and every later step one new token; without it every step runs the whole sequence. A steering hook that should
/// act on generated tokens only edits the positions from <see cref="FirstNewPositionInPass"/> on.
/// </summary>
/// <param name="Index">The step (0 = the pass that produces the first new token).</param>
/// <param name="PromptLength">Positions of the prompt (padding included).</param>
/// <param name="PassOffset">Absolute position of the first position of this pass.</param>
public sealed record GenerationStep(int Index, long PromptLength, long PassOffset)
{
    private static readonly AsyncLocal<GenerationStep?> s_current = new();

    /// <summary>The step of the generation running on this logical thread, or null outside Generate.</summary>
    public static GenerationStep? Current => s_current.Value;

    /// <summary>The first position of this pass that holds a generated token (the pass length or more when none does).</summary>
    public long FirstNewPositionInPass => Math.Max(0, PromptLength - PassOffset);

    /// <summary>Makes <paramref name="step"/> current until the result is disposed.</summary>
    internal static IDisposable Enter(GenerationStep step)
    {
        var previous = s_current.Value;
        s_current.Value = step;
        return new Restore(previous);
    }

    private sealed class Restore(GenerationStep? previous) : IDisposable
    {
        public void Dispose() => s_current.Value = previous;
    }
}
