using MechInterp.Backends.Cpu;

namespace MechInterp.Loading.Architectures;

/// <summary>
/// Reshape that stays a view whenever the strides allow it (as <c>torch.Tensor.view</c> does for non-contiguous
/// tensors), so that the layout conversions of loading — a transposed nn.Linear weight split into heads, a narrowed
/// fused q|k|v matrix — keep pointing into memory-mapped checkpoint data. Used under <see cref="GradMode.NoGrad"/>
/// only (no autograd is recorded); tensors off the managed CPU backend, and layouts that need a copy, go through
/// <see cref="Tensor.Reshape"/>.
/// </summary>
internal static class StridedReshape
{
    /// <summary><paramref name="x"/> reshaped to <paramref name="shape"/> (one dim may be -1): a view when possible.</summary>
    public static Tensor Reshape(Tensor x, params long[] shape)
    {
        if (x.IsContiguous || x.Handle is not CpuHandle h || x.RequiresGrad) return x.Reshape(shape);
        var target = ShapeUtil.InferReshape(x.Shape, shape);
        var strides = ViewStrides(h.ShapeArray, h.Strides, target);
        return strides is null ? x.Reshape(shape) : new Tensor(h.ViewOf(h.Offset, target, strides));
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
