using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>
    /// NumPy/PyTorch-style indexing: <c>x[0, 1..^1, TensorIndex.None, TensorIndex.Ellipsis]</c>. Integers remove a
    /// dim, ranges and slices keep it (as views), None inserts a dim, Ellipsis fills the remaining dims, and a 1-D
    /// integer tensor selects entries of its dim (a copy). Setting writes into this tensor in place, as Python's
    /// <c>act[:, pos] = value</c> does (see <see cref="IndexPut_(TensorIndex[], Tensor)"/>: autograd follows the write,
    /// and a write that would corrupt a tensor saved for backward is refused there).
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("At")]
    public Tensor this[params TensorIndex[] indices]
    {
        get => Index(indices);
        set => IndexPut_(indices, value);
    }

    private Tensor Index(TensorIndex[] indices)
    {
        int consuming = indices.Count(i => i.What is not (TensorIndex.Kind.NewAxis or TensorIndex.Kind.Ellipsis));
        if (indices.Count(i => i.What == TensorIndex.Kind.Ellipsis) > 1)
            throw new ArgumentException("an index may contain only one Ellipsis");
        if (consuming > Rank)
            throw new IndexOutOfRangeException($"too many indices ({consuming}) for a tensor of shape {ShapeString(Shape)}");
        var expanded = new List<TensorIndex>();
        foreach (var i in indices)
        {
            if (i.What == TensorIndex.Kind.Ellipsis)
                for (int k = 0; k < Rank - consuming; k++) expanded.Add(..);
            else expanded.Add(i);
        }
        var x = this;
        int dim = 0;
        foreach (var i in expanded)
        {
            switch (i.What)
            {
                case TensorIndex.Kind.NewAxis:
                    x = x.Unsqueeze(dim++);
                    break;
                case TensorIndex.Kind.Single:
                    {
                        long n = x.Shape[dim];
                        long at = i.Single.IsFromEnd ? n - i.Single.Value : i.Single.Value;
                        if (at < 0 || at >= n)
                            throw new IndexOutOfRangeException($"index {(i.Single.IsFromEnd ? "^" : "")}{i.Single.Value} is out of range for dim {dim} of size {n} in shape {ShapeString(x.Shape)}");
                        x = x.Select(dim, at);
                        break;
                    }
                case TensorIndex.Kind.Range:
                    {
                        long n = x.Shape[dim];
                        long s = i.Span.Start.IsFromEnd ? n - i.Span.Start.Value : i.Span.Start.Value;
                        long e = i.Span.End.IsFromEnd ? n - i.Span.End.Value : i.Span.End.Value;
                        x = x.Slice(dim, Math.Clamp(s, 0, n), Math.Clamp(e, 0, n));
                        dim++;
                        break;
                    }
                case TensorIndex.Kind.Step:
                    x = x.Slice(dim, i.Start, i.Stop ?? x.Shape[dim], i.StepSize);
                    dim++;
                    break;
                case TensorIndex.Kind.Tensor:
                    {
                        var idx = i.Indices!;
                        var flat = idx.Reshape(-1);
                        long n = x.Shape[dim];
                        var wrapped = Where(flat < 0, flat + n, flat);
                        var selected = x.IndexSelect(dim, wrapped);
                        if (idx.Rank != 1)
                        {
                            var shape = x.Shape.Take(dim).Concat(idx.Shape).Concat(x.Shape.Skip(dim + 1)).ToArray();
                            selected = selected.Reshape(shape);
                            dim += idx.Rank;
                        }
                        else dim++;
                        x = selected;
                        break;
                    }
            }
        }
        return x;
    }
}
