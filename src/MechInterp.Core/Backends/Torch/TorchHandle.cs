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

    /// <summary>Takes ownership of <paramref name="tensor"/>.</summary>
    public TorchHandle(TorchBackend backend, TTensor tensor)
    {
        _backend = backend;
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
    public override void Dispose()
    {
        var t = _tensor;
        _tensor = null;
        t?.Dispose();
    }
}
