namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// Threading policy for the GEMM kernels: how many threads a call may use, and running its chunks on the library's
/// one pool (<see cref="CpuWorkers"/>: more chunks than threads, taken dynamically). A call made from inside a chunk
/// runs single-threaded, so nested parallelism never oversubscribes the cores.
/// </summary>
internal static class GemmParallel
{
    /// <summary>Work below this many flops per extra thread is not worth waking another core for (~20–40 µs).</summary>
    public const double MinFlopsPerThread = 8e6;

    /// <summary>Number of workers for a problem of <paramref name="flops"/> flops under a cap of <paramref name="threads"/> (0 = all cores).</summary>
    public static int Degree(int threads, double flops)
    {
        if (CpuWorkers.InChunk) return 1;
        int cores = CpuWorkers.Threads;
        int t = threads == 0 ? cores : Math.Min(threads, cores);
        double byWork = Math.Floor(flops / MinFlopsPerThread);
        return (int)Math.Max(1, Math.Min(t, byWork));
    }

    /// <summary>Bytes of B below which a memory-bound few-row product does not wake another core: streaming 512 KiB
    /// takes ~25 µs at one core's bandwidth, several times the cost of waking a worker.</summary>
    public const double MinStreamBytesPerThread = 512 * 1024;

    /// <summary>Number of workers for a memory-bound product streaming <paramref name="bytes"/> of B (few rows of A,
    /// a decode step): bandwidth, not flops, decides, so a 768×768 weight is worth two cores although its 1.2 MFLOP
    /// are not.</summary>
    public static int StreamingDegree(int threads, double bytes)
    {
        if (CpuWorkers.InChunk) return 1;
        int cores = CpuWorkers.Threads;
        int t = threads == 0 ? cores : Math.Min(threads, cores);
        return (int)Math.Max(1, Math.Min(t, Math.Floor(bytes / MinStreamBytesPerThread)));
    }

    /// <summary>Runs <paramref name="body"/>(0..<paramref name="chunks"/>-1) on at most <paramref name="threads"/> threads
    /// of the pool (the caller is one of them), chunks taken dynamically.</summary>
    public static void For(int chunks, int threads, Action<int> body) => CpuWorkers.For(chunks, threads, body);

    /// <summary>Splits <paramref name="length"/> into <paramref name="parts"/> near-equal chunks aligned to <paramref name="align"/>.</summary>
    public static (int Start, int Length) Chunk(int length, int parts, int part, int align)
    {
        long per = ((long)length + parts - 1) / parts;
        per = (per + align - 1) / align * align;
        long start = Math.Min(length, per * part);
        long end = Math.Min(length, start + per);
        return ((int)start, (int)(end - start));
    }
}
