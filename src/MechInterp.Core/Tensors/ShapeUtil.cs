namespace MechInterp;

/// <summary>Shape arithmetic shared by the tensor front end and the backends.</summary>
internal static class ShapeUtil
{
    public static long NumElements(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    /// <summary>Row-major strides of a contiguous tensor.</summary>
    public static long[] ContiguousStrides(ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
        return strides;
    }

    /// <summary>NumPy broadcast of two shapes; throws naming both when incompatible.</summary>
    public static long[] Broadcast(ReadOnlySpan<long> a, ReadOnlySpan<long> b)
    {
        int n = Math.Max(a.Length, b.Length);
        var result = new long[n];
        for (int i = 0; i < n; i++)
        {
            long da = i - (n - a.Length) >= 0 ? a[i - (n - a.Length)] : 1;
            long db = i - (n - b.Length) >= 0 ? b[i - (n - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"shapes {Tensor.ShapeString(a.ToArray())} and {Tensor.ShapeString(b.ToArray())} cannot be broadcast together (dim {i}: {da} vs {db})");
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    /// <summary>Resolves one -1 in a reshape target and checks the element count.</summary>
    public static long[] InferReshape(long[] from, long[] to)
    {
        long total = NumElements(from);
        var result = (long[])to.Clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"reshape to {Tensor.ShapeString(to)}: only one dim may be -1");
                infer = i;
            }
            else if (result[i] < 0) throw new ArgumentException($"reshape to {Tensor.ShapeString(to)}: negative size");
            else known *= result[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0)
                throw new ArgumentException($"cannot reshape {Tensor.ShapeString(from)} ({total} elements) to {Tensor.ShapeString(to)}");
            result[infer] = total / known;
        }
        else if (known != total)
            throw new ArgumentException($"cannot reshape {Tensor.ShapeString(from)} ({total} elements) to {Tensor.ShapeString(to)} ({known} elements)");
        return result;
    }

    /// <summary>Strides that let <paramref name="newShape"/> view data laid out as (<paramref name="shape"/>,
    /// <paramref name="strides"/>), or null when a copy is needed (PyTorch's computeStride: each run of old dims that
    /// are contiguous with one another may be split or merged freely).</summary>
    internal static long[]? ViewStrides(long[] shape, long[] strides, long[] newShape)
    {
        long numel = 1;
        foreach (var s in shape) numel *= s;
        if (numel == 0 || shape.Length == 0) return null;
        var result = new long[newShape.Length];
        int viewD = newShape.Length - 1;
        long chunkBase = strides[^1], tensorNumel = 1, viewNumel = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            tensorNumel *= shape[d];
            if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1))
                {
                    result[viewD] = viewNumel * chunkBase;
                    viewNumel *= newShape[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (d > 0)
                {
                    chunkBase = strides[d - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        return viewD == -1 ? result : null;
    }
}
