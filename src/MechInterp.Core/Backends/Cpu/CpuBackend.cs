namespace MechInterp.Backends.Cpu;
internal sealed partial class CpuBackend
{
    public static IBackend Instance => throw new InvalidOperationException("placeholder");
}
