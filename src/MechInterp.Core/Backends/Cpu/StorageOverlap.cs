namespace MechInterp.Backends.Cpu;

/// <summary>Whether two managed-CPU views may reach the same elements (used so that two parameters never share
/// elements, while disjoint views of one storage, such as W_Q/W_K/W_V narrowed from a fused q|k|v, may).</summary>
internal static class StorageOverlap
{
    /// <summary>False only when the elements of <paramref name="a"/> and <paramref name="b"/> are provably disjoint: other
    /// storage, disjoint element ranges, or the same 1-D/2-D lattice (same sizes and strides up to a transpose, unit inner
    /// stride, rows that do not overlap themselves) shifted so that no element coincides.</summary>
    public static bool MayOverlap(CpuHandle a, CpuHandle b)
    {
        if (!ReferenceEquals(a.Storage, b.Storage)) return false;
        var (aLo, aHi) = Extent(a);
        var (bLo, bHi) = Extent(b);
        if (aHi < bLo || bHi < aLo) return false;
        var la = Lattice(a);
        var lb = Lattice(b);
        if (la is null || lb is null || !la.SequenceEqual(lb)) return true;
        var dims = la;
        long delta = Math.Abs(b.Offset - a.Offset);
        if (dims.Length == 1) return delta % dims[0].Stride == 0 && delta / dims[0].Stride < dims[0].Size;
        var (rows, rowStride) = dims[0];
        var (cols, colStride) = dims[1];
        if (colStride != 1 || rowStride < cols) return true;
        long q = delta / rowStride, r = delta % rowStride;
        return (q < rows && r < cols) || (q + 1 < rows && rowStride - r < cols);
    }

    private static (long Lo, long Hi) Extent(CpuHandle h)
    {
        long lo = h.Offset, hi = h.Offset;
        for (int d = 0; d < h.Rank; d++)
        {
            long span = (h.ShapeArray[d] - 1) * h.Strides[d];
            if (span < 0) lo += span; else hi += span;
        }
        return (lo, hi);
    }

    /// <summary>The (size, stride) pairs of the dims larger than 1, largest stride first; null for none, more than
    /// two, or a non-positive stride.</summary>
    private static (long Size, long Stride)[]? Lattice(CpuHandle h)
    {
        var dims = Enumerable.Range(0, h.Rank).Where(d => h.ShapeArray[d] > 1)
            .Select(d => (Size: h.ShapeArray[d], Stride: h.Strides[d])).OrderByDescending(x => x.Stride).ToArray();
        return dims.Length is 0 or > 2 || dims.Any(x => x.Stride <= 0) ? null : dims;
    }
}
