namespace MechInterp;

/// <summary>Process-wide settings of the managed CPU engine (<see cref="Device.Cpu"/>).</summary>
public static class ManagedCpuOptions
{
    private static volatile bool s_prepackWeights = true;
    private static long s_prepackMemoryBudget = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4;

    /// <summary>
    /// Keep float32 model weights (<see cref="Parameter"/> values) in the GEMM kernel's panel layout once a weight is
    /// read a second time unchanged, instead of repacking it in every product (default true). Saves the 10–25% of each
    /// weight product spent packing at ~128 tokens; results are bit-identical either way. Costs one extra copy of each
    /// packed matrix, within <see cref="PrepackMemoryBudget"/>, except for weights memory-mapped from a checkpoint,
    /// whose file pages are released once packed. Set false to keep memory at one copy of weights that were copied or
    /// processed on load; packs already made are no longer used and go with their weights.
    /// </summary>
    public static bool PrepackWeights
    {
        get => s_prepackWeights;
        set => s_prepackWeights = value;
    }

    /// <summary>
    /// The most bytes that weight packs may add to the process (default: a quarter of the memory available to it). Packs
    /// of memory-mapped weights that nothing wrote do not count: their file pages are released. Packs of copied or
    /// processed weights (a second copy) count; once the budget is used, further weights are packed on the fly in each
    /// product as without prepacking. Lowering it does not drop packs already made.
    /// </summary>
    public static long PrepackMemoryBudget
    {
        get => Interlocked.Read(ref s_prepackMemoryBudget);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Interlocked.Exchange(ref s_prepackMemoryBudget, value);
        }
    }
}
