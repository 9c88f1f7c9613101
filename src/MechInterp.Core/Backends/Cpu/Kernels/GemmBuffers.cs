using System.Runtime.InteropServices;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// Per-thread packing buffers for GEMM, grown on demand and kept for the life of the thread. Writing fresh
/// pages is very expensive on some VMs (first-touch page faults), so buffers are reused across calls and, on
/// Linux, backed by transparent huge pages where the kernel allows it.
/// </summary>
internal static unsafe class GemmBuffers
{
    private const nuint HugePage = 2 * 1024 * 1024;

    [ThreadStatic] private static void* t_a;
    [ThreadStatic] private static nuint t_aBytes;
    [ThreadStatic] private static void* t_b;
    [ThreadStatic] private static nuint t_bBytes;

    /// <summary>This thread's buffer for packed A, at least <paramref name="bytes"/> long, 64-byte aligned.</summary>
    public static void* A(nuint bytes) => Ensure(ref t_a, ref t_aBytes, bytes);

    /// <summary>This thread's buffer for packed B, at least <paramref name="bytes"/> long, 64-byte aligned.</summary>
    public static void* B(nuint bytes) => Ensure(ref t_b, ref t_bBytes, bytes);

    private static void* Ensure(ref void* ptr, ref nuint size, nuint bytes)
    {
        if (bytes <= size) return ptr;
        if (ptr != null) NativeMemory.AlignedFree(ptr);
        ptr = null;
        size = 0;
        nuint rounded = (bytes + HugePage - 1) & ~(HugePage - 1);
        void* p = NativeMemory.AlignedAlloc(rounded, bytes >= HugePage ? HugePage : 64);
        if (bytes >= HugePage) MemoryAdvice.HugePages(p, rounded);
        ptr = p;
        size = rounded;
        return p;
    }

}
