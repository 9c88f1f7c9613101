using System.Runtime.InteropServices;

namespace MechInterp.Backends.Cpu;

/// <summary>Linux <c>madvise</c> hints for the managed backend's own memory. Advisory: off Linux, or where libc lacks the
/// call, nothing happens.</summary>
internal static unsafe class MemoryAdvice
{
    private const int MadvDontNeed = 4;
    private const int MadvHugePage = 14;

    /// <summary>Back [p, p + bytes) with transparent huge pages where the kernel allows (a failure means small pages).</summary>
    public static void HugePages(void* p, nuint bytes) => Advise(p, bytes, MadvHugePage);

    /// <summary>Drop the resident pages of [p, p + bytes) (page-aligned): clean file pages of a private mapping are read
    /// back from the file on the next touch. The caller guarantees no page in the range holds private writes.</summary>
    public static void DontNeed(void* p, nuint bytes) => Advise(p, bytes, MadvDontNeed);

    private static void Advise(void* p, nuint bytes, int advice)
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            _ = madvise(p, bytes, advice);
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int madvise(void* addr, nuint length, int advice);
}
