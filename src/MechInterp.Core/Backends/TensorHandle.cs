namespace MechInterp.Backends;

/// <summary>A backend's own representation of a tensor's data (storage plus view geometry).
/// Handles are owned by exactly one <see cref="Tensor"/>; views get their own handle sharing storage.</summary>
internal abstract class TensorHandle : IDisposable
{
    /// <summary>Shape of the tensor this handle represents.</summary>
    public abstract long[] Shape { get; }

    /// <summary>Element type.</summary>
    public abstract DType DType { get; }

    /// <summary>The backend that made this handle.</summary>
    public abstract IBackend Backend { get; }

    /// <summary>A number that changes whenever something writes into this handle's storage (shared by every view of
    /// it): the managed storage's write version, or a counter the libtorch backend keeps for each native storage it
    /// made. Autograd compares it to catch in-place writes into tensors saved for backward.</summary>
    public abstract long WriteVersion { get; }

    /// <summary>Releases the storage reference (native memory on Torch, a pooled buffer on the CPU).</summary>
    public abstract void Dispose();

    /// <summary>Number of elements.</summary>
    public long NumElements
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }
}
