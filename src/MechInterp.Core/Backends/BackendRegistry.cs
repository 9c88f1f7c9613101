using System.Collections.Concurrent;
using MechInterp.Backends.Cpu;
using MechInterp.Backends.Torch;

namespace MechInterp.Backends;

/// <summary>Finds the backend for a <see cref="Device"/>; Torch backends are created on first use.</summary>
internal static class BackendRegistry
{
    private static readonly ConcurrentDictionary<Device, IBackend> s_backends = new();

    public static IBackend Get(Device device) => device.Kind switch
    {
        DeviceKind.Cpu => CpuBackend.Instance,
        _ => s_backends.GetOrAdd(device, d => TorchBackend.Create(d)),
    };
}

/// <summary>Optional: a backend that can copy directly from another backend's handle (e.g. Torch CPU ↔ CUDA).</summary>
internal interface ICrossDeviceBackend
{
    /// <summary>Copies <paramref name="source"/> onto this backend if it knows how; false otherwise.</summary>
    bool TryCopyFrom(TensorHandle source, out TensorHandle copy);
}
