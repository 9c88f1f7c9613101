using System.Runtime.InteropServices;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

/// <summary>Copies between managed arrays and the storage of contiguous libtorch CPU tensors, in chunks so that
/// no byte span exceeds 2 GiB.</summary>
internal static class TorchTransfer
{
    /// <summary>Default elements per chunk.</summary>
    public const int DefaultChunk = 1 << 26;

    /// <summary>Copies <paramref name="source"/> into the contiguous CPU tensor <paramref name="host"/> (same element count).</summary>
    public static void Write<TElem>(TTensor host, ReadOnlySpan<TElem> source, int chunk = DefaultChunk) where TElem : unmanaged
    {
        int n = source.Length;
        if (n == 0) return;
        if (n <= chunk)
        {
            MemoryMarshal.AsBytes(source).CopyTo(host.bytes);
            return;
        }
        using var flat = host.view(-1);
        for (int start = 0; start < n; start += chunk)
        {
            int len = Math.Min(chunk, n - start);
            using var part = flat.narrow(0, start, len);
            MemoryMarshal.AsBytes(source.Slice(start, len)).CopyTo(part.bytes);
        }
    }

    /// <summary>A managed copy of the contiguous CPU tensor <paramref name="host"/>.</summary>
    public static TElem[] Read<TElem>(TTensor host, int chunk = DefaultChunk) where TElem : unmanaged
    {
        var result = new TElem[checked((int)host.numel())];
        int n = result.Length;
        if (n == 0) return result;
        if (n <= chunk)
        {
            host.bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
            return result;
        }
        using var flat = host.view(-1);
        for (int start = 0; start < n; start += chunk)
        {
            int len = Math.Min(chunk, n - start);
            using var part = flat.narrow(0, start, len);
            part.bytes.CopyTo(MemoryMarshal.AsBytes(result.AsSpan(start, len)));
        }
        return result;
    }
}
