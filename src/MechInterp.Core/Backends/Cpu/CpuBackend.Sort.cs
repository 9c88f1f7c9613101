using System.Numerics;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public (TensorHandle Values, TensorHandle Indices) Sort(TensorHandle x, int dim, bool descending) => SortCore(H(x), dim, descending, -1, "Sort");

    /// <inheritdoc />
    public (TensorHandle Values, TensorHandle Indices) TopK(TensorHandle x, int k, int dim, bool largest) => SortCore(H(x), dim, largest, k, "TopK");

    /// <summary>Stable sort along <paramref name="dim"/>, keeping the first <paramref name="k"/> (all when negative).
    /// NaN sorts as the largest value, like PyTorch.</summary>
    private (TensorHandle, TensorHandle) SortCore(CpuHandle h, int dim, bool descending, int k, string op)
    {
        if (h.Rank == 0)
        {
            using var one = h.ViewOf(h.Offset, [1], [1]);
            var (v, i) = SortCore(one, 0, descending, k, op);
            using (v) using (i) return k == 0 ? (View(v, [0]), View(i, [0])) : (View(v, []), View(i, []));
        }
        int last = h.Rank - 1;
        var perm = Enumerable.Range(0, h.Rank).Where(i => i != dim).Append(dim).ToArray();
        var inverse = new int[h.Rank];
        for (int i = 0; i < h.Rank; i++) inverse[perm[i]] = i;
        using var moved = (CpuHandle)Permute(h, perm);
        using var rows = (CpuHandle)Contiguous(moved);
        long n = rows.ShapeArray[last];
        int keep = k < 0 ? (int)n : k;
        var outShape = (long[])rows.ShapeArray.Clone();
        outShape[last] = keep;
        using var values = CpuHandle.Allocate(h.DType, outShape);
        using var indices = CpuHandle.Allocate(DType.Int64, (long[])outShape.Clone());
        switch (h.DType)
        {
            case DType.Float32: SortRows<float>(rows, values, indices, descending); break;
            case DType.Float64: SortRows<double>(rows, values, indices, descending); break;
            case DType.Int64: SortRows<long>(rows, values, indices, descending); break;
            case DType.Int32: SortRows<int>(rows, values, indices, descending); break;
            case DType.UInt8 or DType.Bool: SortRows<byte>(rows, values, indices, descending); break;
            default: throw Unsupported(op, h.DType);
        }
        using var vb = (CpuHandle)Permute(values, inverse);
        using var ib = (CpuHandle)Permute(indices, inverse);
        return (Contiguous(vb), Contiguous(ib));
    }

    private static void SortRows<T>(CpuHandle rows, CpuHandle values, CpuHandle indices, bool descending) where T : unmanaged, INumber<T>
    {
        int n = (int)rows.ShapeArray[^1], keep = (int)values.ShapeArray[^1];
        long count = n == 0 ? 0 : rows.NumElements / n;
        if (keep == 0 || count == 0) return;
        StridedPlan.ParallelRange(count, count * n * 8, (start, end) =>
        {
            var order = new int[n];
            var keys = new T[n];
            for (long r = start; r < end; r++)
            {
                rows.Span<T>().Slice((int)(r * n), n).CopyTo(keys);
                for (int i = 0; i < n; i++) order[i] = i;
                var kk = keys;
                Comparison<int> cmp = descending
                    ? (a, b) => { int c = Compare(kk[b], kk[a]); return c != 0 ? c : a.CompareTo(b); }
                    : (a, b) => { int c = Compare(kk[a], kk[b]); return c != 0 ? c : a.CompareTo(b); };
                if (keep < n && keep <= 64) PartialSelect(order, keep, cmp);
                else order.AsSpan().Sort(cmp);
                var vo = values.Span<T>().Slice((int)(r * keep), keep);
                var io = indices.Span<long>().Slice((int)(r * keep), keep);
                for (int i = 0; i < keep; i++) { vo[i] = keys[order[i]]; io[i] = order[i]; }
            }
        });
    }

    /// <summary>Puts the <paramref name="keep"/> first elements (by <paramref name="cmp"/>) of <paramref name="order"/> at its start, sorted.</summary>
    private static void PartialSelect(int[] order, int keep, Comparison<int> cmp)
    {
        // insertion into a sorted prefix of length keep: O(n·keep) worst case, O(n) typical
        int filled = 0;
        for (int i = 0; i < order.Length; i++)
        {
            int v = order[i];
            if (filled == keep && cmp(v, order[keep - 1]) >= 0) continue;
            int j = filled < keep ? filled++ : keep - 1;
            while (j > 0 && cmp(v, order[j - 1]) < 0) { order[j] = order[j - 1]; j--; }
            order[j] = v;
        }
    }

    private static int Compare<T>(T a, T b) where T : INumber<T>
    {
        bool na = T.IsNaN(a), nb = T.IsNaN(b);
        if (na || nb) return na == nb ? 0 : na ? 1 : -1;
        return a < b ? -1 : a > b ? 1 : 0;
    }
}
