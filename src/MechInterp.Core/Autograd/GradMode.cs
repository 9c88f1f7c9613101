namespace MechInterp;

/// <summary>Switches gradient recording for the current logical flow. <c>using (GradMode.NoGrad()) { ... }</c>
/// runs ops without building the autograd graph. Like <see cref="TensorScope"/> and <see cref="HookContext"/> the
/// mode is <see cref="AsyncLocal{T}"/>: it holds across <c>await</c>, work started inside the block inherits it,
/// and concurrent flows never see each other's mode.</summary>
public static class GradMode
{
    private static readonly AsyncLocal<int> s_disabledDepth = new();

    /// <summary>True when ops record gradients in this flow.</summary>
    public static bool IsEnabled => s_disabledDepth.Value == 0;

    /// <summary>Disables gradient recording until the returned object is disposed.</summary>
    public static IDisposable NoGrad()
    {
        s_disabledDepth.Value++;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            s_disabledDepth.Value--;
        }
    }
}
