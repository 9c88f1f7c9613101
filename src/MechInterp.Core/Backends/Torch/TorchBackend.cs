using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

/// <summary>
/// The TorchSharp backend: every primitive maps to libtorch on the CPU (<see cref="Device.TorchCpu"/>) or a CUDA GPU
/// (<see cref="Device.Cuda"/>). Temporaries are disposed as soon as they are used, so native memory is released
/// deterministically; results are owned by the <see cref="TorchHandle"/> returned.
/// </summary>
internal sealed partial class TorchBackend : IBackend, ICrossDeviceBackend, IFusedNormKernels, IInPlaceKernels
{
    private readonly torch.Device _torchDevice;

    private TorchBackend(Device device, torch.Device torchDevice)
    {
        Device = device;
        _torchDevice = torchDevice;
    }

    /// <summary>The backend for a Torch device; throws <see cref="TorchUnavailableException"/> when libtorch (or CUDA)
    /// is not usable here.</summary>
    public static IBackend Create(Device d)
    {
        if (d.Kind == DeviceKind.Cpu)
            throw new ArgumentException($"the Torch backend serves Device.TorchCpu and Device.Cuda(i), not '{d}' (the managed backend)", nameof(d));
        TorchRuntime.EnsureAvailable(d);
        var td = d.Kind == DeviceKind.Cuda ? torch.device(DeviceType.CUDA, d.Index) : torch.CPU;
        return new TorchBackend(d, td);
    }

    /// <inheritdoc />
    public Device Device { get; }

    /// <summary>The native tensor of a handle made by this backend.</summary>
    private TTensor T(TensorHandle h)
    {
        if (h is TorchHandle th && ReferenceEquals(th.Backend, this)) return th.Tensor;
        throw new ArgumentException($"a tensor on '{h.Backend.Device}' was passed to an op on '{Device}': move it with .To(Device) first");
    }

    /// <summary>Wraps a new native tensor (ownership passes to the handle).</summary>
    private TorchHandle Wrap(TTensor t) => new(this, t);

    /// <summary>Wraps a native view of <paramref name="of"/>'s storage (it shares the write counter).</summary>
    private TorchHandle WrapView(TTensor t, TensorHandle of) => new(this, t, (TorchHandle)of);

    /// <summary>The native tensor of a handle about to be written in place, its write counter bumped first.</summary>
    private TTensor Written(TensorHandle h)
    {
        var t = T(h);
        ((TorchHandle)h).MarkWritten();
        return t;
    }

    // ---------- creation and transfer ----------

    /// <inheritdoc />
    public TensorHandle FromArray(Array data, long[] shape, DType dtype)
    {
        var expected = dtype.ElementType();
        if (data.GetType().GetElementType() != expected || data.Rank != 1)
            throw new ArgumentException($"FromArray for {dtype} needs a 1-D {expected.Name}[] array, got {data.GetType().Name}", nameof(data));
        if (ShapeUtil.NumElements(shape) != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Tensor.ShapeString(shape)}", nameof(shape));
        var host = torch.empty(shape, TorchDTypes.ToTorch(dtype), torch.CPU);
        try
        {
            switch (dtype)
            {
                case DType.Float32: TorchTransfer.Write(host, ((float[])data).AsSpan()); break;
                case DType.Float64: TorchTransfer.Write(host, ((double[])data).AsSpan()); break;
                case DType.Float16: TorchTransfer.Write(host, ((Half[])data).AsSpan()); break;
                case DType.BFloat16: TorchTransfer.Write(host, ((ushort[])data).AsSpan()); break;
                case DType.Int64: TorchTransfer.Write(host, ((long[])data).AsSpan()); break;
                case DType.Int32: TorchTransfer.Write(host, ((int[])data).AsSpan()); break;
                case DType.UInt8: TorchTransfer.Write(host, ((byte[])data).AsSpan()); break;
                default: TorchTransfer.Write(host, ((bool[])data).AsSpan()); break;
            }
            if (Device.Kind == DeviceKind.TorchCpu) return Wrap(host);
            var onDevice = host.to(_torchDevice, copy: true);
            host.Dispose();
            return Wrap(onDevice);
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public TensorHandle Full(long[] shape, DType dtype, double value)
    {
        using var s = TorchDTypes.ScalarFor(value, dtype);
        return Wrap(torch.full(shape, s, TorchDTypes.ToTorch(dtype), _torchDevice));
    }

    /// <inheritdoc />
    public Array ToArray(TensorHandle x)
    {
        var t = T(x);
        bool direct = t.device_type == DeviceType.CPU && t.is_contiguous();
        TTensor host;
        if (direct) host = t;
        else if (t.device_type == DeviceType.CPU) host = t.contiguous();
        else
        {
            using var dense = t.contiguous();
            host = dense.to(torch.CPU, copy: true);
        }
        try
        {
            return x.DType switch
            {
                DType.Float32 => TorchTransfer.Read<float>(host),
                DType.Float64 => TorchTransfer.Read<double>(host),
                DType.Float16 => TorchTransfer.Read<Half>(host),
                DType.BFloat16 => TorchTransfer.Read<ushort>(host),
                DType.Int64 => TorchTransfer.Read<long>(host),
                DType.Int32 => TorchTransfer.Read<int>(host),
                DType.UInt8 => TorchTransfer.Read<byte>(host),
                _ => TorchTransfer.Read<bool>(host),
            };
        }
        finally
        {
            if (!direct) host.Dispose();
        }
    }

    /// <inheritdoc />
    public TensorHandle Cast(TensorHandle x, DType dtype) => Wrap(T(x).to_type(TorchDTypes.ToTorch(dtype), copy: true));

    /// <summary>Copies a tensor from another Torch device (CPU ↔ CUDA, GPU ↔ GPU) without a host round trip.</summary>
    public bool TryCopyFrom(TensorHandle source, out TensorHandle copy)
    {
        if (source is TorchHandle th)
        {
            copy = Wrap(th.Tensor.to(_torchDevice, copy: true));
            return true;
        }
        copy = null!;
        return false;
    }
}
