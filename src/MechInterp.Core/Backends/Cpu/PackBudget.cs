namespace MechInterp.Backends.Cpu;

/// <summary>
/// Process-wide account of the bytes that weight packs add on top of their weights (packs of copied or processed
/// weights; a pack of a clean memory-mapped weight replaces the weight's resident pages and is not charged), held to
/// <see cref="ManagedCpuOptions.PrepackMemoryBudget"/>. A pack that would exceed it is not made: that product packs on
/// the fly as before, so a large processed model never doubles its memory unasked.
/// </summary>
internal static class PackBudget
{
    private static long s_charged;

    /// <summary>Bytes currently charged.</summary>
    public static long Charged => Interlocked.Read(ref s_charged);

    /// <summary>Charges <paramref name="bytes"/> if they fit the budget; false (nothing charged) if not.</summary>
    public static bool TryCharge(long bytes)
    {
        while (true)
        {
            long current = Interlocked.Read(ref s_charged);
            if (current + bytes > ManagedCpuOptions.PrepackMemoryBudget) return false;
            if (Interlocked.CompareExchange(ref s_charged, current + bytes, current) == current) return true;
        }
    }

    /// <summary>Returns <paramref name="bytes"/> charged earlier (a pack was dropped).</summary>
    public static void Refund(long bytes)
    {
        if (bytes != 0) Interlocked.Add(ref s_charged, -bytes);
    }
}
