namespace MechInterp.Backends.Cpu;

/// <summary>
/// Keeps large arrays for reuse so that tensor storage does not touch fresh pages on every op (first touch of a
/// page is ~100x the cost of reusing resident memory on the VMs this library targets). Arrays are bucketed by
/// size class (four classes per power of two), so a rented array may be longer than asked; callers track the
/// logical length. Small arrays are plain allocations. Thread-safe.
/// </summary>
internal static class BufferPool
{
    /// <summary>Arrays smaller than this many bytes are not pooled.</summary>
    public const long MinPooledBytes = 32 * 1024;

    private const int ClassesPerOctave = 4;
    private const int MaxClass = 64 * ClassesPerOctave;

    private static readonly Dictionary<Type, Stack<Array>[]> s_buckets = new();
    private static readonly object s_lock = new();
    private static long s_retainedBytes;

    /// <summary>Upper bound on bytes kept in the pool (a quarter of the memory available to the GC).</summary>
    public static long MaxRetainedBytes { get; set; } = Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4);

    /// <summary>Bytes currently held for reuse.</summary>
    public static long RetainedBytes => Interlocked.Read(ref s_retainedBytes);

    /// <summary>An array of at least <paramref name="length"/> elements; contents are unspecified (may be stale).</summary>
    public static T[] Rent<T>(long length) where T : unmanaged
    {
        if (length > Array.MaxLength)
            throw new OutOfMemoryException($"a tensor of {length} elements of {typeof(T).Name} exceeds the managed CPU backend's limit of {Array.MaxLength} elements per tensor; split the work into smaller tensors");
        long bytes = length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (bytes < MinPooledBytes) return length == 0 ? [] : new T[length];
        int cls = SizeClass(length);
        lock (s_lock)
        {
            if (s_buckets.TryGetValue(typeof(T), out var buckets) && buckets[cls] is { Count: > 0 } stack)
            {
                var a = (T[])stack.Pop();
                s_retainedBytes -= (long)a.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                return a;
            }
        }
        return GC.AllocateUninitializedArray<T>((int)Math.Min(ClassLength(cls), Array.MaxLength));
    }

    /// <summary>Gives an array back for reuse (ignored for small arrays or when the pool is full).</summary>
    public static void Return(Array array, int elementSize)
    {
        long bytes = (long)array.Length * elementSize;
        if (bytes < MinPooledBytes) return;
        int cls = SizeClass(array.Length);
        if (ClassLength(cls) != array.Length && Math.Min(ClassLength(cls), Array.MaxLength) != array.Length) return; // not one of ours
        lock (s_lock)
        {
            if (s_retainedBytes + bytes > MaxRetainedBytes) return;
            if (!s_buckets.TryGetValue(array.GetType().GetElementType()!, out var buckets))
                s_buckets[array.GetType().GetElementType()!] = buckets = new Stack<Array>[MaxClass];
            (buckets[cls] ??= new Stack<Array>()).Push(array);
            s_retainedBytes += bytes;
        }
    }

    /// <summary>Drops every pooled array (for tests and memory-pressure handling).</summary>
    public static void Clear()
    {
        lock (s_lock)
        {
            s_buckets.Clear();
            s_retainedBytes = 0;
        }
    }

    /// <summary>Smallest class whose length is at least <paramref name="length"/>.</summary>
    private static int SizeClass(long length)
    {
        int octave = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)length);
        long baseLen = 1L << octave;
        if (baseLen == length) return octave * ClassesPerOctave;
        long step = Math.Max(1, baseLen / ClassesPerOctave);
        long sub = (length - baseLen + step - 1) / step; // 1..4
        return octave * ClassesPerOctave + (int)sub;
    }

    private static long ClassLength(int cls)
    {
        int octave = cls / ClassesPerOctave, sub = cls % ClassesPerOctave;
        long baseLen = 1L << octave;
        return baseLen + sub * Math.Max(1, baseLen / ClassesPerOctave);
    }
}
