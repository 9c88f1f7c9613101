using MechInterp.Autograd;
using MechInterp.Backends;

namespace MechInterp;

public sealed partial class Tensor
{
    private Tensor ReduceCore(ReduceOp op, int dim, bool keepDim)
    {
        if (Rank == 0) return Reshape(1).ReduceCore(op, 0, keepDim);
        int d = NormalizeDim(dim, Rank);
        return new Tensor(Backend.Reduce(op, Handle, d, keepDim));
    }

    /// <summary>A 0-d tensor reduces over its one implicit dim (0 or -1) to a 0-d tensor whatever keepDim says, as in
    /// torch; going through a [1] view keeps the backward shapes consistent.</summary>
    private Tensor ReduceScalar(int dim, Func<Tensor, Tensor> reduce)
    {
        NormalizeDim(dim, 0);
        return reduce(Reshape(1));
    }

    private Tensor ReduceDims(int[]? dims, bool keepDim, Func<Tensor, int, bool, Tensor> one)
    {
        var x = this;
        if (dims is null || dims.Length == 0)
        {
            var flat = Rank == 0 ? Reshape(1) : Reshape(-1);
            var r = one(flat, 0, false);
            return keepDim ? r.Reshape(Enumerable.Repeat(1L, Rank).ToArray()) : r;
        }
        foreach (var d in dims.Select(d => NormalizeDim(d, Rank)).Distinct().OrderByDescending(d => d))
            x = one(x, d, keepDim);
        return x;
    }

    /// <summary>Sum over all elements (a scalar).</summary>
    public Tensor Sum() => ReduceDims(null, false, static (t, d, k) => t.Sum(d, k));

    /// <summary>Sum over <paramref name="dim"/>.</summary>
    public Tensor Sum(int dim, bool keepDim = false)
    {
        if (Rank == 0) return ReduceScalar(dim, t => t.Sum(0));
        var x = this;
        var r = ReduceCore(ReduceOp.Sum, dim, keepDim);
        int d = NormalizeDim(dim, Rank);
        AutogradRecorder.Record(r, "sum", [x], g => [(keepDim ? g : g.Unsqueeze(d)).Expand(x.Shape)]);
        return r;
    }

    /// <summary>Sum over several dims.</summary>
    public Tensor Sum(int[] dims, bool keepDim = false) => ReduceDims(dims, keepDim, static (t, d, k) => t.Sum(d, k));

    /// <summary>Mean over all elements.</summary>
    public Tensor Mean() => ReduceDims(null, false, static (t, d, k) => t.Mean(d, k));

    /// <summary>Mean over <paramref name="dim"/>.</summary>
    public Tensor Mean(int dim, bool keepDim = false)
    {
        if (Rank == 0) return ReduceScalar(dim, t => t.Mean(0));
        var x = this;
        var r = ReduceCore(ReduceOp.Mean, dim, keepDim);
        int d = NormalizeDim(dim, Rank);
        long n = Shape[d];
        AutogradRecorder.Record(r, "mean", [x], g => [(keepDim ? g : g.Unsqueeze(d)).Expand(x.Shape) / n]);
        return r;
    }

    /// <summary>Mean over several dims.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false) => ReduceDims(dims, keepDim, static (t, d, k) => t.Mean(d, k));

    private Tensor Extreme(ReduceOp op, int dim, bool keepDim)
    {
        if (Rank == 0) return ReduceScalar(dim, t => t.Extreme(op, 0, false));
        var x = this;
        var r = ReduceCore(op, dim, keepDim);
        int d = NormalizeDim(dim, Rank);
        AutogradRecorder.Record(r, op == ReduceOp.Max ? "max" : "min", [x], g =>
        {
            var rk = keepDim ? r : r.Unsqueeze(d);
            var gk = keepDim ? g : g.Unsqueeze(d);
            var hit = (x == rk).To(g.DType);
            return [gk * hit / hit.Sum(d, keepDim: true)];
        }, [x, r]);
        return r;
    }

    /// <summary>Maximum over <paramref name="dim"/> (gradient split among ties).</summary>
    public Tensor Max(int dim, bool keepDim = false) => Extreme(ReduceOp.Max, dim, keepDim);

    /// <summary>Maximum of all elements.</summary>
    public Tensor Max() => ReduceDims(null, false, static (t, d, k) => t.Max(d, k));

    /// <summary>Minimum over <paramref name="dim"/>.</summary>
    public Tensor Min(int dim, bool keepDim = false) => Extreme(ReduceOp.Min, dim, keepDim);

    /// <summary>Minimum of all elements.</summary>
    public Tensor Min() => ReduceDims(null, false, static (t, d, k) => t.Min(d, k));

    /// <summary>Index of the maximum over <paramref name="dim"/> (Int64), or of the flattened tensor.</summary>
    public Tensor ArgMax(int? dim = null, bool keepDim = false) =>
        dim is null ? Reshape(-1).ReduceCore(ReduceOp.ArgMax, 0, false) : ReduceCore(ReduceOp.ArgMax, dim.Value, keepDim);

    /// <summary>Index of the minimum over <paramref name="dim"/> (Int64), or of the flattened tensor.</summary>
    public Tensor ArgMin(int? dim = null, bool keepDim = false) =>
        dim is null ? Reshape(-1).ReduceCore(ReduceOp.ArgMin, 0, false) : ReduceCore(ReduceOp.ArgMin, dim.Value, keepDim);

    /// <summary>Numerically stable log(sum(exp(x))) over <paramref name="dim"/>.</summary>
    public Tensor LogSumExp(int dim, bool keepDim = false)
    {
        if (Rank == 0) return ReduceScalar(dim, t => t.LogSumExp(0));
        var x = this;
        var r = ReduceCore(ReduceOp.LogSumExp, dim, keepDim);
        int d = NormalizeDim(dim, Rank);
        AutogradRecorder.Record(r, "logsumexp", [x], g =>
        {
            var rk = keepDim ? r : r.Unsqueeze(d);
            var gk = keepDim ? g : g.Unsqueeze(d);
            return [gk * (x - rk).Exp()];
        }, [x, r]);
        return r;
    }

    /// <summary>Variance over <paramref name="dim"/> (unbiased by default, like torch.var).</summary>
    public Tensor Var(int dim, bool keepDim = false, bool unbiased = true)
    {
        int d = NormalizeDim(dim, Rank);
        long n = Shape[d];
        var centered = this - Mean(d, keepDim: true);
        var ss = centered.Square().Sum(d, keepDim);
        return ss / Math.Max(1, unbiased ? n - 1 : n);
    }

    /// <summary>Standard deviation over <paramref name="dim"/>.</summary>
    public Tensor Std(int dim, bool keepDim = false, bool unbiased = true) => Var(dim, keepDim, unbiased).Sqrt();

    /// <summary>p-norm over <paramref name="dim"/> (all elements when null).</summary>
    public Tensor Norm(double p = 2, int? dim = null, bool keepDim = false)
    {
        if (dim is null && keepDim) return Norm(p).Reshape(Enumerable.Repeat(1L, Rank).ToArray());
        if (p == 2) return Norm2(dim, keepDim);
        if (double.IsPositiveInfinity(p)) return dim is null ? Abs().Max() : Abs().Max(dim.Value, keepDim);
        var s = dim is null ? Abs().Pow(p).Sum() : Abs().Pow(p).Sum(dim.Value, keepDim);
        return s.Pow(1.0 / p);
    }

    /// <summary>L2 norm with its own backward x·g/‖x‖, taken as 0 where ‖x‖ = 0 (PyTorch), where sqrt's chain rule gives NaN.</summary>
    private Tensor Norm2(int? dim, bool keepDim)
    {
        var x = this;
        Tensor r;
        using (GradMode.NoGrad()) r = (dim is null ? Square().Sum() : Square().Sum(dim.Value, keepDim)).Sqrt();
        bool unsqueeze = dim is not null && !keepDim && Rank > 0;
        int d = unsqueeze ? NormalizeDim(dim!.Value, Rank) : 0;
        AutogradRecorder.Record(r, "norm", [x], g =>
        {
            var scale = Where(r == 0, ZerosLike(r), g / r);
            return [x * (unsqueeze ? scale.Unsqueeze(d) : scale)];
        }, [x, r]);
        return r;
    }

    /// <summary>Inclusive cumulative sum along <paramref name="dim"/>.</summary>
    public Tensor CumSum(int dim)
    {
        int d = NormalizeDim(dim, Rank);
        var x = this;
        var r = new Tensor(Backend.CumSum(Handle, d));
        AutogradRecorder.Record(r, "cumsum", [x], g => [g.Flip(d).CumSum(d).Flip(d)]);
        return r;
    }

    /// <summary>Reverses the order along <paramref name="dim"/>.</summary>
    public Tensor Flip(int dim)
    {
        int d = NormalizeDim(dim, Rank);
        var index = Arange(Shape[d] - 1, -1, -1, device: Device);
        return IndexSelect(d, index);
    }
}
