using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

/// <summary>
/// The GEMM panel layouts (<see cref="PackedPanels"/>) made of one weight storage's matrices, so that a weight read by
/// every forward pass is packed once instead of on every product. A matrix is packed on its second use with the
/// storage unchanged: a weight that changes between uses (a training step) is never packed, so training pays no
/// extra copy or memory. Any write to the storage (<see cref="CpuStorage.MarkWritten"/>: every in-place kernel calls
/// it) drops every pack, and a pack is only handed out for the storage version it was made from. Thread-safe.
/// </summary>
internal sealed class PackedWeightCache
{
    private readonly List<Entry> _entries = [];

    /// <summary>One matrix view of the storage: offset, k×n, strides, panel width.</summary>
    internal readonly record struct Key(long Offset, int K, int N, long RowStride, long ColStride, int Nr);

    private sealed class Entry(Key key, int version)
    {
        public Key Key { get; } = key;
        public int Version { get; set; } = version;
        public PackedPanels? Panels { get; private set; }

        /// <summary>Bytes of <see cref="Panels"/> charged to <see cref="PackBudget"/>.</summary>
        private long Charged { get; set; }

        public void Set(PackedPanels panels, long charged)
        {
            Panels = panels;
            Charged = charged;
        }

        public void Drop()
        {
            PackBudget.Refund(Charged);
            Panels = null;
            Charged = 0;
        }
    }

    /// <summary>Total bytes of the packs held.</summary>
    public long Bytes
    {
        get
        {
            lock (_entries) return _entries.Sum(e => e.Panels?.Bytes ?? 0);
        }
    }

    /// <summary>The pack of <paramref name="key"/> at storage version <paramref name="version"/>: the cached one, or
    /// one made now by <paramref name="pack"/> when this view was already used at this version, or null on a first
    /// use (the caller packs on the fly as usual). A pack that adds to memory (<paramref name="charged"/>: the weight
    /// stays resident beside it) is made only if its bytes fit <see cref="PackBudget"/>. <paramref name="created"/>
    /// says a pack was made by this call.</summary>
    public PackedPanels? Get(Key key, int version, bool charged, Func<PackedPanels> pack, out bool created)
    {
        created = false;
        lock (_entries)
        {
            var entry = _entries.Find(e => e.Key == key);
            if (entry is null)
            {
                _entries.Add(new Entry(key, version));
                return null;
            }
            if (entry.Version != version)
            {
                entry.Version = version;
                entry.Drop();
                return null;
            }
            if (entry.Panels is null)
            {
                long bytes = PackedPanels.BytesFor(key.K, key.N, key.Nr);
                if (charged && !PackBudget.TryCharge(bytes)) return null;
                try
                {
                    entry.Set(pack(), charged ? bytes : 0);
                }
                catch
                {
                    if (charged) PackBudget.Refund(bytes);
                    throw;
                }
                created = true;
            }
            return entry.Panels;
        }
    }

    /// <summary>Makes the pack of <paramref name="key"/> at <paramref name="version"/> now, as <see cref="Get"/> would on
    /// the view's second use (same budget rule); true when this call made it.</summary>
    public bool Prepack(Key key, int version, bool charged, Func<PackedPanels> pack)
    {
        lock (_entries)
        {
            var entry = _entries.Find(e => e.Key == key);
            if (entry is null) _entries.Add(entry = new Entry(key, version));
            else if (entry.Version != version)
            {
                entry.Version = version;
                entry.Drop();
            }
        }
        // The entry is now known at this version: Get makes (or returns) the pack.
        Get(key, version, charged, pack, out bool created);
        return created;
    }

    /// <summary>The pack of <paramref name="key"/> if one was made at storage version <paramref name="version"/>; never
    /// makes one (for products that would not pack B themselves, such as few-row decode steps).</summary>
    public PackedPanels? Existing(Key key, int version)
    {
        lock (_entries) return _entries.Find(e => e.Key == key && e.Version == version)?.Panels;
    }

    /// <summary>A storage dropped without being released (its tensors were never disposed) takes its cache with it: the
    /// budget gets the charge back here.</summary>
    ~PackedWeightCache()
    {
        foreach (var e in _entries) e.Drop();
    }

    /// <summary>Drops every pack (the storage was written or released).</summary>
    public void Clear()
    {
        lock (_entries)
        {
            foreach (var e in _entries) e.Drop();
            _entries.Clear();
        }
    }
}
