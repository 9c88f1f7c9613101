using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

/// <summary>A libtorch tensor owned by one <see cref="Tensor"/>; disposing it releases the native tensor
/// (the storage is freed when no view of it is left).</summary>
internal sealed class TorchHandle : TensorHandle
{
    private TTensor? _tensor;
    private readonly long[] _shape;
    private readonly DType _dtype;
    private readonly TorchBackend _backend;
    private readonly WriteCounter _writes;

    /// <summary>Takes ownership of <paramref name="tensor"/>; a view passes the handle it views (<paramref name="viewOf"/>)
    /// so that both share one write counter, as they share one storage.</summary>
    public TorchHandle(TorchBackend backend, TTensor tensor, TorchHandle? viewOf = null)
    {
        _backend = backend;
        _writes = viewOf?._writes ?? new WriteCounter();
        _tensor = tensor;
        _shape = tensor.shape;
        _dtype = TorchDTypes.FromTorch(tensor.dtype);
    }

    /// <summary>The native tensor.</summary>
    public TTensor Tensor => _tensor ?? throw new ObjectDisposedException(nameof(TorchHandle), "this libtorch tensor was already disposed");

    /// <inheritdoc />
    public override long[] Shape => _shape;

    /// <inheritdoc />
    public override DType DType => _dtype;

    /// <inheritdoc />
    public override IBackend Backend => _backend;

    /// <inheritdoc />
    public override long WriteVersion => Volatile.Read(ref _writes.Value);

    /// <summary>Records a write into this storage's existing elements (every InPlace member calls it before writing).</summary>
    public void MarkWritten() => Interlocked.Increment(ref _writes.Value);

    /// <summary>libtorch keeps a version per storage that TorchSharp does not expose; this is ours, shared by views.</summary>
    private sealed class WriteCounter
    {
        public long Value;
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        var t = _tensor;
        _tensor = null;
        t?.Dispose();
    }
}
