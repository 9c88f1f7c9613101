using MechInterp.Backends.Cpu;

namespace MechInterp.Backends;

/// <summary>
/// What loading needs to know about, and do with, the storage behind tensors, answered by the backend that holds it
/// so that the layers above (Loading, Models) never see a backend's own types: tensors over a memory-mapped file,
/// strided views, whether two parameters may share elements, a second mapping for a tied weight, and giving cached
/// buffers back. Tensors on the Torch backend have no mapped storage and never alias here (they are always copied).
/// </summary>
internal static class StorageFacts
{
    /// <summary>A tensor of <paramref name="shape"/> over <paramref name="length"/> elements of <paramref name="file"/>
    /// starting at <paramref name="byteOffset"/> (managed CPU backend; the mapping is copy-on-write).</summary>
    public static Tensor MapFile(MappedFile file, long byteOffset, long length, DType dtype, long[] shape)
    {
        var storage = CpuStorage.Map(file, byteOffset, length, dtype);
        return new Tensor(new CpuHandle(storage, 0, shape, ShapeUtil.ContiguousStrides(shape)));
    }

    /// <summary>A number that changes whenever something writes into <paramref name="t"/>'s existing elements through
    /// an InPlace member (the managed storage's write version; on libtorch the backend's own counter per storage).</summary>
    public static long WriteVersion(Tensor t) => t.Handle.WriteVersion;

    /// <summary>True when <paramref name="t"/>'s elements lie in a memory-mapped file.</summary>
    public static bool IsMapped(Tensor t) => t.Handle is CpuHandle { Storage.IsMapped: true };

    /// <summary>True for a mapped tensor the kernels read without a copy: contiguous, or a matrix whose rows or columns
    /// are contiguous (what <c>MatMul</c> takes as is).</summary>
    public static bool IsGemmReadyMapped(Tensor t)
    {
        if (t.Handle is not CpuHandle { Storage.IsMapped: true } h) return false;
        return h.IsContiguous || (h.Rank == 2 && (h.Strides[0] == 1 || h.Strides[1] == 1));
    }

    /// <summary><paramref name="x"/> as <paramref name="shape"/> without a copy when its strides allow (a managed-CPU
    /// strided view), else null.</summary>
    public static TensorHandle? TryStridedView(Tensor x, long[] shape)
    {
        if (x.Handle is not CpuHandle h) return null;
        var strides = ShapeUtil.ViewStrides(h.ShapeArray, h.Strides, shape);
        return strides is null ? null : h.ViewOf(h.Offset, shape, strides);
    }

    /// <summary>True unless the elements of <paramref name="a"/> and <paramref name="b"/> are provably disjoint (see
    /// <see cref="StorageOverlap"/>); tensors on other backends never share storage with a managed one.</summary>
    public static bool MayShareElements(Tensor a, Tensor b) =>
        a.Handle is CpuHandle ha && b.Handle is CpuHandle hb && StorageOverlap.MayOverlap(ha, hb);

    /// <summary>True when <paramref name="t"/> lives on the managed CPU backend (whose storages can alias).</summary>
    public static bool IsManaged(Tensor t) => t.Handle is CpuHandle;

    /// <summary>The elements of <paramref name="t"/> in storage of their own: for a mapped tensor, the same view of a
    /// second copy-on-write mapping of its file (nothing copied, pages shared until written); otherwise a copy.</summary>
    public static Tensor SeparateStorage(Tensor t)
    {
        if (t.Handle is not CpuHandle h || h.Storage.MapTwin() is not { } twin) return t.Clone();
        return new Tensor(new CpuHandle(twin, h.Offset, (long[])h.ShapeArray.Clone(), (long[])h.Strides.Clone()));
    }

    /// <summary>Gives the managed backend's pooled buffers back to the OS (a full compacting collection follows, so the
    /// freed arrays really leave the process).</summary>
    public static void ReleaseManagedBuffers()
    {
        BufferPool.Clear();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
