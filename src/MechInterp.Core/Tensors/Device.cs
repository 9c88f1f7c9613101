namespace MechInterp;

/// <summary>Kind of device a tensor lives on.</summary>
public enum DeviceKind
{
    /// <summary>The embedded managed SIMD CPU backend (no native dependency).</summary>
    Cpu,
    /// <summary>libtorch on the CPU through TorchSharp.</summary>
    TorchCpu,
    /// <summary>A CUDA GPU through TorchSharp.</summary>
    Cuda,
}

/// <summary>Where a tensor lives and which backend computes on it.</summary>
/// <param name="Kind">The backend kind.</param>
/// <param name="Index">The CUDA device ordinal (0 for CPU kinds).</param>
public readonly record struct Device(DeviceKind Kind, int Index = 0)
{
    /// <summary>The managed SIMD CPU backend: the default.</summary>
    public static Device Cpu => new(DeviceKind.Cpu);

    /// <summary>libtorch CPU through TorchSharp (needs the <c>libtorch-cpu-*</c> package).</summary>
    public static Device TorchCpu => new(DeviceKind.TorchCpu);

    /// <summary>CUDA GPU <paramref name="index"/> through TorchSharp (needs a <c>libtorch-cuda-*</c> package).</summary>
    public static Device Cuda(int index = 0) => new(DeviceKind.Cuda, index);

    /// <summary>True when the tensor is computed by TorchSharp.</summary>
    public bool IsTorch => Kind != DeviceKind.Cpu;

    /// <summary>
    /// Gives memory that is cached for reuse back to the operating system: the managed backend's pooled buffers (which
    /// also hold the host copies made while loading onto any device), followed by a full compacting collection so the
    /// freed arrays really leave the process. Cached buffers make the next passes cheaper (first touch of fresh memory
    /// is costly), so call this after one-off work that needed a lot of memory (loading does, unless
    /// <see cref="LoadOptions.ReleaseCachedMemory"/> is off), not between forward passes.
    /// </summary>
    public void ReleaseCachedMemory() => Backends.StorageFacts.ReleaseManagedBuffers();

    /// <summary>Parses "cpu", "torch-cpu", "cuda" or "cuda:1".</summary>
    public static Device Parse(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t is "torch-cpu" or "torchcpu" or "torch:cpu") return TorchCpu;
        if (t == "cuda") return Cuda(0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t[5..], out var i)) return Cuda(i);
        throw new ArgumentException($"unknown device '{text}': use \"cpu\" (managed), \"torch-cpu\", \"cuda\" or \"cuda:N\"", nameof(text));
    }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        DeviceKind.Cpu => "cpu",
        DeviceKind.TorchCpu => "torch-cpu",
        _ => $"cuda:{Index}",
    };
}
