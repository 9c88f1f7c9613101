using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <summary>
    /// C = A·B with B's panels from its storage's <see cref="PackedWeightCache"/> when B is an unchanged float32 weight
    /// matrix the blocked kernel would pack anyway; false (nothing written) when this product packs on the fly as usual.
    /// A weight's pack made from a memory-mapped file lets its clean file pages go (the pack serves the products; the
    /// pages come back from the page cache when something else reads the weight).
    /// </summary>
    /// <summary>Makes the pack <see cref="TryPrepackedB"/> would make on the matrix's second use, now (at load): the
    /// first forward pass then reads it instead of paying for every weight's packing at once. Declines where that
    /// product would not use a pack (not float32, no unit stride, prepacking off, over the memory budget).</summary>
    private static unsafe void PrepackB(CpuHandle b)
    {
        if (b.Rank != 2 || b.DType != DType.Float32 || b.Storage.Packs is not { } cache || !ManagedCpuOptions.PrepackWeights) return;
        int k = (int)b.ShapeArray[0], n = (int)b.ShapeArray[1];
        long brs = b.Strides[0], bcs = b.Strides[1];
        int nr = Gemm.PanelWidth;
        if (n == 0 || k == 0 || (brs != 1 && bcs != 1) || PackedPanels.BytesFor(k, n, nr) / sizeof(float) > Array.MaxLength) return;
        var storage = b.Storage;
        var key = new PackedWeightCache.Key(b.Offset, k, n, brs, bcs, nr);
        if (cache.Prepack(key, storage.Version, !storage.PagesDroppable, () =>
        {
            fixed (float* pb = storage.Span<float>()) return PackedPanels.Pack(k, n, pb + b.Offset, brs, bcs, nr);
        }))
            storage.ReleaseMappedPages();
    }

    private static unsafe bool TryPrepackedB(CpuHandle a, CpuHandle b, CpuHandle c, int m, int n, int k)
    {
        if (b.DType != DType.Float32 || b.Storage.Packs is not { } cache || n == 0 || k == 0 || !ManagedCpuOptions.PrepackWeights) return false;
        long brs = b.Strides[^2], bcs = b.Strides[^1];
        if (brs != 1 && bcs != 1) return false;
        int nr = Gemm.PanelWidth;
        if (PackedPanels.BytesFor(k, n, nr) / sizeof(float) > Array.MaxLength) return false; // one array holds a pack
        var storage = b.Storage;
        var key = new PackedWeightCache.Key(b.Offset, k, n, brs, bcs, nr);
        bool created = false;
        // A few-row product (a decode step) streams B: it reads a pack that prefill made (contiguous panels, and the
        // dropped file pages stay dropped) but never makes one.
        var panels = !Gemm.PacksB(m, brs, bcs) ? cache.Existing(key, storage.Version) : cache.Get(key, storage.Version, !storage.PagesDroppable, () =>
        {
            fixed (float* pb = storage.Span<float>()) return PackedPanels.Pack(k, n, pb + b.Offset, brs, bcs, nr);
        }, out created);
        if (panels is null) return false;
        if (created) storage.ReleaseMappedPages();
        long ars = a.Strides[^2], acs = a.Strides[^1];
        fixed (float* pa = a.Storage.Span<float>(), pc = c.Storage.Span<float>())
            Gemm.SgemmPrepacked(m, pa + a.Offset, ars, acs, panels, pc + c.Offset, n, false, 0);
        return true;
    }
}
