using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    private static Tensor CheckIndex(Tensor index, string op)
    {
        if (index.DType.IsFloatingPoint() || index.DType == DType.Bool)
            throw new ArgumentException($"{op}: index tensor must be an integer tensor, got {index.DType}");
        return index.To(DType.Int64);
    }

    /// <summary>Entries of <paramref name="dim"/> at the 1-D Int64 <paramref name="index"/>.</summary>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        int d = NormalizeDim(dim, Rank);
        var idx = CheckIndex(index, "IndexSelect");
        CheckSameDevice(this, idx, "IndexSelect");
        if (idx.Rank != 1) throw new ArgumentException($"IndexSelect needs a 1-D index, got shape {ShapeString(idx.Shape)}");
        CheckRange(idx, Shape[d], $"IndexSelect on dim {d}");
        var x = this;
        var r = new Tensor(Backend.IndexSelect(Handle, d, idx.Handle));
        AutogradRecorder.Record(r, "index_select", [x], g => [ZerosLike(x).IndexAdd(d, idx, g)], [idx]);
        return r;
    }

    /// <summary>Out-of-place index_add: a copy with <paramref name="source"/> slices added at <paramref name="index"/> along dim.</summary>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source)
    {
        int d = NormalizeDim(dim, Rank);
        var idx = CheckIndex(index, "IndexAdd");
        CheckRange(idx, Shape[d], $"IndexAdd on dim {d}");
        var x = this;
        var src = source.To(DType);
        var r = new Tensor(Backend.IndexAdd(Handle, d, idx.Handle, src.Handle));
        AutogradRecorder.Record(r, "index_add", [x, src], g => [g, g.IndexSelect(d, idx)], [idx]);
        return r;
    }

    /// <summary>torch.gather along <paramref name="dim"/>.</summary>
    public Tensor Gather(int dim, Tensor index)
    {
        int d = NormalizeDim(dim, Rank);
        var idx = CheckIndex(index, "Gather");
        if (idx.Rank != Rank) throw new ArgumentException($"Gather: index rank {idx.Rank} differs from input rank {Rank}");
        CheckRange(idx, Shape[d], $"Gather on dim {d}");
        var x = this;
        var r = new Tensor(Backend.Gather(Handle, d, idx.Handle));
        AutogradRecorder.Record(r, "gather", [x], g => [ZerosLike(x).ScatterAdd(d, idx, g)], [idx]);
        return r;
    }

    /// <summary>Out-of-place torch.scatter_add along <paramref name="dim"/>.</summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor source)
    {
        int d = NormalizeDim(dim, Rank);
        var idx = CheckIndex(index, "ScatterAdd");
        if (idx.Rank != Rank) throw new ArgumentException($"ScatterAdd: index rank {idx.Rank} differs from input rank {Rank}");
        CheckRange(idx, Shape[d], $"ScatterAdd on dim {d}");
        var x = this;
        var src = source.To(DType);
        var r = new Tensor(Backend.ScatterAdd(Handle, d, idx.Handle, src.Handle));
        AutogradRecorder.Record(r, "scatter_add", [x, src], g => [g, ZeroPadTo(g.Gather(d, idx), src.Shape)], [idx]);
        return r;
    }

    /// <summary>Pads with zeros at the end of each dim up to <paramref name="shape"/> (a source larger than the index
    /// contributes only its index-shaped corner, so the rest of it gets a zero gradient).</summary>
    private static Tensor ZeroPadTo(Tensor t, long[] shape)
    {
        for (int i = 0; i < shape.Length; i++)
        {
            if (t.Shape[i] == shape[i]) continue;
            var padShape = (long[])t.Shape.Clone();
            padShape[i] = shape[i] - t.Shape[i];
            t = Concat([t, Zeros(padShape, t.DType, t.Device)], i);
        }
        return t;
    }

    private static void CheckRange(Tensor idx, long size, string op)
    {
        if (idx.NumElements == 0) return;
        using var _ = GradMode.NoGrad();
        using var scope = Scope();
        long lo = idx.Min().Item<long>(), hi = idx.Max().Item<long>();
        if (lo < 0 || hi >= size)
            throw new IndexOutOfRangeException($"{op}: index values range over [{lo}, {hi}] but the dim has size {size} (valid 0..{size - 1})");
    }

    /// <summary>One-hot encoding of an integer tensor: [..., numClasses] float32.</summary>
    public Tensor OneHot(long numClasses, DType dtype = DType.Float32)
    {
        var idx = CheckIndex(this, "OneHot");
        CheckRange(idx, numClasses, "OneHot");
        var classes = Arange(numClasses, device: Device);
        return (idx.Unsqueeze(-1) == classes).To(dtype);
    }

    /// <summary>Lower triangle of the last two dims (entries above diagonal <paramref name="diagonal"/> set to 0).</summary>
    public Tensor Tril(long diagonal = 0) => Where(TriangleMask(diagonal, lower: true), this, ZerosLike(this));

    /// <summary>Upper triangle of the last two dims.</summary>
    public Tensor Triu(long diagonal = 0) => Where(TriangleMask(diagonal, lower: false), this, ZerosLike(this));

    private Tensor TriangleMask(long diagonal, bool lower)
    {
        if (Rank < 2) throw new InvalidOperationException($"Tril/Triu need at least 2 dims, got {ShapeString(Shape)}");
        var rows = Arange(Shape[^2], device: Device).Unsqueeze(1);
        var cols = Arange(Shape[^1], device: Device).Unsqueeze(0);
        var diff = cols - rows;
        return lower ? diff <= diagonal : diff >= diagonal;
    }

    /// <summary>The k largest (or smallest) entries along dim, sorted.</summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true)
    {
        int d = NormalizeDim(dim, Rank);
        if (k < 0 || k > Shape[d]) throw new ArgumentOutOfRangeException(nameof(k), k, $"TopK: k must be in 0..{Shape[d]}");
        var (v, i) = Backend.TopK(Handle, k, d, largest);
        var values = new Tensor(v);
        var indices = new Tensor(i);
        var x = this;
        AutogradRecorder.Record(values, "topk", [x], g => [ZerosLike(x).ScatterAdd(d, indices, g)], [indices]);
        return (values, indices);
    }

    /// <summary>Stable sort along dim.</summary>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false)
    {
        int d = NormalizeDim(dim, Rank);
        var (v, i) = Backend.Sort(Handle, d, descending);
        var values = new Tensor(v);
        var indices = new Tensor(i);
        var x = this;
        AutogradRecorder.Record(values, "sort", [x], g => [ZerosLike(x).ScatterAdd(d, indices, g)], [indices]);
        return (values, indices);
    }

    /// <summary>Indices that sort along dim.</summary>
    public Tensor ArgSort(int dim = -1, bool descending = false) => Sort(dim, descending).Indices;
}
