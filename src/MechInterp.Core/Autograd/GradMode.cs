namespace MechInterp;

/// <summary>Switches gradient recording on this thread. <c>using (GradMode.NoGrad()) { ... }</c>
/// runs ops without building the autograd graph.</summary>
public static class GradMode
{
    [ThreadStatic] private static int t_disabledDepth;

    /// <summary>True when ops record gradients on this thread.</summary>
    public static bool IsEnabled => t_disabledDepth == 0;

    /// <summary>Disables gradient recording until the returned object is disposed.</summary>
    public static IDisposable NoGrad()
    {
        t_disabledDepth++;
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        private bool _done;
        public void Dispose()
        {
            if (_done) return;
            _done = true;
            t_disabledDepth--;
        }
    }
}
