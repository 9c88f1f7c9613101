using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>Reshapes (one dim may be -1). Returns a view when the strides allow it (contiguous data on every
    /// backend; on the managed CPU backend also strided data whose new dims can be expressed with strides, as
    /// <c>torch.reshape</c> does), a copy otherwise. As in PyTorch, do not rely on whether the result aliases the
    /// input: write into a <see cref="Clone"/> when it must not.</summary>
    public Tensor Reshape(params long[] shape)
    {
        var target = ShapeUtil.InferReshape(Shape, shape);
        var src = this;
        Backends.TensorHandle h;
        bool view = true;
        if (IsContiguous) h = Backend.View(Handle, target);
        else if (Backends.StorageFacts.TryStridedView(this, target) is { } strided) h = strided;
        else
        {
            view = false;
            // The view keeps the copy's storage alive; this handle's own reference must go, or the buffer never
            // returns to the pool (every reshape of a permuted tensor leaked one buffer to the GC).
            using var copy = Backend.Contiguous(Handle);
            h = Backend.View(copy, target);
        }
        var result = new Tensor(h);
        var original = (long[])Shape.Clone();
        AutogradRecorder.Record(result, "reshape", [src], g => [g.Reshape(original)]);
        if (view) result.MarkViewOf(src, x => x.Reshape(target));
        return result;
    }

    /// <summary>Same as <see cref="Reshape"/> but requires contiguous data (like torch.view).</summary>
    public Tensor View(params long[] shape)
    {
        if (!IsContiguous)
            throw new InvalidOperationException($"View({string.Join(", ", shape)}) needs a contiguous tensor; this {ShapeString(Shape)} tensor is a non-contiguous view: call Contiguous() first or use Reshape()");
        return Reshape(shape);
    }

    /// <summary>Flattens dims <paramref name="startDim"/>..<paramref name="endDim"/> into one.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = NormalizeDim(startDim, Rank), e = NormalizeDim(endDim, Rank);
        var shape = new List<long>();
        for (int i = 0; i < s; i++) shape.Add(Shape[i]);
        long prod = 1;
        for (int i = s; i <= e; i++) prod *= Shape[i];
        shape.Add(prod);
        for (int i = e + 1; i < Rank; i++) shape.Add(Shape[i]);
        return Reshape([.. shape]);
    }

    /// <summary>Reorders dimensions (a view).</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank)
            throw new ArgumentException($"Permute needs {Rank} dims for a tensor of shape {ShapeString(Shape)}, got {dims.Length}", nameof(dims));
        var norm = dims.Select(d => NormalizeDim(d, Rank)).ToArray();
        if (norm.Distinct().Count() != Rank)
            throw new ArgumentException($"Permute dims ({string.Join(", ", dims)}) must be a permutation of 0..{Rank - 1}", nameof(dims));
        var result = new Tensor(Backend.Permute(Handle, norm));
        var inverse = new int[Rank];
        for (int i = 0; i < Rank; i++) inverse[norm[i]] = i;
        AutogradRecorder.Record(result, "permute", [this], g => [g.Permute(inverse)]);
        result.MarkViewOf(this, x => x.Permute(norm));
        return result;
    }

    /// <summary>Swaps two dims (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        var dims = Enumerable.Range(0, Rank).ToArray();
        int a = NormalizeDim(dim0, Rank), b = NormalizeDim(dim1, Rank);
        (dims[a], dims[b]) = (dims[b], dims[a]);
        return Permute(dims);
    }

    /// <summary>Transpose of the last two dims (matrix transpose; a view).</summary>
    public Tensor T => Rank < 2 ? this : Transpose(-2, -1);

    /// <summary>Inserts a size-1 dim at <paramref name="dim"/>.</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Unsqueeze dim must be in {-Rank - 1}..{Rank}");
        var shape = Shape.ToList();
        shape.Insert(d, 1);
        return ReshapeSizeOnes([.. shape]);
    }

    /// <summary>Removes size-1 dims (all of them, or just <paramref name="dim"/>).</summary>
    public Tensor Squeeze(int? dim = null)
    {
        if (dim is null) return ReshapeSizeOnes(Shape.Where(s => s != 1).ToArray());
        int d = NormalizeDim(dim.Value, Rank);
        if (Shape[d] != 1) return this;
        var shape = Shape.ToList();
        shape.RemoveAt(d);
        return ReshapeSizeOnes([.. shape]);
    }

    /// <summary>A reshape that only inserts or removes size-1 dims: always a view, of strided tensors too (a
    /// <see cref="Select"/> of a sliced tensor writes through to it, as in PyTorch).</summary>
    private Tensor ReshapeSizeOnes(long[] shape)
    {
        if (IsContiguous || NumElements == 0) return Reshape(shape);
        var result = new Tensor(Backend.View(Handle, shape));
        var original = (long[])Shape.Clone();
        AutogradRecorder.Record(result, "reshape", [this], g => [g.Reshape(original)]);
        result.MarkViewOf(this, x => x.Reshape(shape));
        return result;
    }

    /// <summary>Broadcasts to <paramref name="shape"/> without copying (-1 keeps a dim).</summary>
    public Tensor Expand(params long[] shape)
    {
        var target = (long[])shape.Clone();
        int offset = target.Length - Rank;
        if (offset < 0) throw new ArgumentException($"cannot expand {ShapeString(Shape)} to fewer dims {ShapeString(shape)}", nameof(shape));
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == -1)
            {
                if (i < offset) throw new ArgumentException("-1 is not allowed for new leading dims in Expand", nameof(shape));
                target[i] = Shape[i - offset];
            }
            else if (i >= offset && Shape[i - offset] != 1 && Shape[i - offset] != target[i])
                throw new ArgumentException($"cannot expand {ShapeString(Shape)} to {ShapeString(shape)}: dim {i} has size {Shape[i - offset]}, which is neither 1 nor {target[i]}", nameof(shape));
        }
        if (target.AsSpan().SequenceEqual(Shape)) return this;
        var result = new Tensor(Backend.Expand(Handle, target));
        var original = (long[])Shape.Clone();
        AutogradRecorder.Record(result, "expand", [this], g => [g.SumToShape(original)]);
        result.MarkViewOf(this, x => x.Expand(target), overlapping: ShapeUtil.NumElements(target) > ShapeUtil.NumElements(original));
        return result;
    }

    /// <summary>Expands to another tensor's shape.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other.Shape);

    /// <summary>A contiguous tensor with the same values (this tensor when already contiguous).</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var result = new Tensor(Backend.Contiguous(Handle));
        AutogradRecorder.Record(result, "contiguous", [this], g => [g]);
        return result;
    }

    /// <summary>Elements [start, start+length) of <paramref name="dim"/> (a view).</summary>
    public Tensor Narrow(int dim, long start, long length) => Slice(dim, start, start + length, 1);

    /// <summary>Python-style slice start:end:step of one dim (negative start/end count from the end; a view).</summary>
    public Tensor Slice(int dim, long start, long end, long step = 1)
    {
        int d = NormalizeDim(dim, Rank);
        long n = Shape[d];
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), step, "slice step must be positive");
        if (start < 0) start += n;
        if (end < 0) end += n;
        start = Math.Clamp(start, 0, n);
        end = Math.Clamp(end, start, n);
        long length = (end - start + step - 1) / step;
        if (start == 0 && length == n && step == 1) return this;
        var result = new Tensor(Backend.Narrow(Handle, d, start, length, step));
        var original = (long[])Shape.Clone();
        AutogradRecorder.Record(result, "slice", [this], g => [SliceBackward(g, original, d, start, length, step)]);
        result.MarkViewOf(this, x => x.Slice(d, start, start + length * step, step));
        return result;
    }

    private static Tensor SliceBackward(Tensor g, long[] original, int dim, long start, long length, long step)
    {
        var index = Arange(start, start + length * step, step, device: g.Device);
        return Zeros(original, g.DType, g.Device).IndexAdd(dim, index, g);
    }

    /// <summary>Index <paramref name="index"/> of <paramref name="dim"/>, removing that dim (a view, also of a strided
    /// tensor: writing into it writes into this tensor).</summary>
    public Tensor Select(int dim, long index)
    {
        int d = NormalizeDim(dim, Rank);
        long i = index < 0 ? index + Shape[d] : index;
        if (i < 0 || i >= Shape[d])
            throw new IndexOutOfRangeException($"index {index} is out of range for dim {d} of size {Shape[d]}");
        return Slice(d, i, i + 1).Squeeze(d);
    }

    /// <summary>Splits into pieces of <paramref name="size"/> along <paramref name="dim"/> (last may be smaller).</summary>
    public Tensor[] Split(long size, int dim = 0)
    {
        int d = NormalizeDim(dim, Rank);
        var parts = new List<Tensor>();
        for (long s = 0; s < Shape[d]; s += size) parts.Add(Narrow(d, s, Math.Min(size, Shape[d] - s)));
        return [.. parts];
    }

    /// <summary>Splits into pieces of the given sizes along <paramref name="dim"/>.</summary>
    public Tensor[] Split(long[] sizes, int dim = 0)
    {
        int d = NormalizeDim(dim, Rank);
        if (sizes.Sum() != Shape[d]) throw new ArgumentException($"split sizes sum to {sizes.Sum()} but dim {d} has size {Shape[d]}", nameof(sizes));
        var parts = new Tensor[sizes.Length];
        long s = 0;
        for (int i = 0; i < sizes.Length; i++) { parts[i] = Narrow(d, s, sizes[i]); s += sizes[i]; }
        return parts;
    }

    /// <summary>Splits into <paramref name="chunks"/> nearly equal pieces along <paramref name="dim"/>.</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        int d = NormalizeDim(dim, Rank);
        long size = (Shape[d] + chunks - 1) / chunks;
        return Split(Math.Max(size, 1), d);
    }

    /// <summary>Concatenates tensors along an existing dim.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Concat needs at least one tensor", nameof(tensors));
        var first = tensors[0];
        int d = NormalizeDim(dim, first.Rank);
        var dtype = tensors.Select(t => t.DType).Aggregate(DTypeExtensions.Promote);
        var parts = tensors.Select(t => t.To(dtype)).ToArray();
        foreach (var t in parts)
        {
            CheckSameDevice(first, t, "Concat");
            if (t.Rank != first.Rank || Enumerable.Range(0, first.Rank).Any(i => i != d && t.Shape[i] != first.Shape[i]))
                throw new ArgumentException($"Concat along dim {d}: shape {ShapeString(t.Shape)} does not match {ShapeString(first.Shape)} outside dim {d}", nameof(tensors));
        }
        if (parts.Length == 1) return parts[0].Clone();
        var result = new Tensor(first.Backend.Concat(parts.Select(p => p.Handle).ToArray(), d));
        var sizes = parts.Select(p => p.Shape[d]).ToArray();
        AutogradRecorder.Record(result, "concat", parts, g => g.Split(sizes, d));
        return result;
    }

    /// <summary>Stacks tensors of equal shape along a new dim.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("Stack needs at least one tensor", nameof(tensors));
        int d = dim < 0 ? dim + tensors[0].Rank + 1 : dim;
        return Concat(tensors.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>Reduces a broadcast gradient back to <paramref name="shape"/> by summing the broadcast dims.</summary>
    internal Tensor SumToShape(long[] shape)
    {
        if (Shape.AsSpan().SequenceEqual(shape)) return this;
        var g = this;
        int lead = Rank - shape.Length;
        for (int i = 0; i < lead; i++) g = g.Sum(0);
        for (int i = 0; i < shape.Length; i++)
            if (shape[i] == 1 && g.Shape[i] != 1) g = g.Sum(i, keepDim: true);
        return g;
    }
}
