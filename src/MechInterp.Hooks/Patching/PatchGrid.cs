namespace MechInterp.Patching;

/// <summary>
/// The cells of a named sweep: for every layer, one cell per index along the chosen axes of one activation (TransformerLens's
/// index_axis_names), each a one-hot mask over those axes that covers every other dim (all prompts, all channels).
/// </summary>
internal static class PatchGrid
{
    /// <summary>Cells for short name <paramref name="activation"/> (e.g. "resid_pre", "z") at every layer, and the result
    /// shape [n_layers, axis sizes...]. <paramref name="shapeOf"/> gives a hook's activation shape (batch first),
    /// <paramref name="valueOf"/> the value written there.</summary>
    public static (List<PatchCell> Cells, long[] Shape) Build(IHookedModel model, string activation, IReadOnlyList<PatchAxis> axes,
        Func<string, long[]> shapeOf, Func<string, Tensor> valueOf)
    {
        ArgumentNullException.ThrowIfNull(axes);
        if (axes.Distinct().Count() != axes.Count) throw new ArgumentException($"axes [{string.Join(", ", axes)}] repeat an axis: name each once", nameof(axes));
        int layers = model.Config.NLayers;
        var cells = new List<PatchCell>();
        long[]? sizes = null;
        for (int l = 0; l < layers; l++)
        {
            string hook = ActName.Get(activation, l);
            model.GetHookPoint(hook);
            var shape = shapeOf(hook);
            var dims = axes.Select(a => PatchAxes.Dim(hook, shape.Length, a)).ToArray();
            var layerSizes = dims.Select(d => shape[d]).ToArray();
            if (sizes is not null && !sizes.SequenceEqual(layerSizes))
                throw new NotSupportedException($"'{activation}' has axis sizes [{string.Join(", ", layerSizes)}] at layer {l} but [{string.Join(", ", sizes)}] at layer 0: a per-layer grid needs equal sizes; build PatchCells yourself");
            sizes = layerSizes;
            var value = valueOf(hook);
            foreach (var mask in OneHotMasks(shape, dims, model.Device)) cells.Add(new PatchCell(hook, mask, value));
        }
        return (cells, [layers, .. sizes ?? []]);
    }

    /// <summary>One mask per index tuple of <paramref name="dims"/> (row-major, last axis fastest): shape 1 on every dim
    /// except those, with one true entry.</summary>
    public static IEnumerable<Tensor> OneHotMasks(long[] activationShape, int[] dims, Device device)
    {
        var maskShape = activationShape.Select((_, d) => dims.Contains(d) ? activationShape[d] : 1L).ToArray();
        long count = dims.Aggregate(1L, (n, d) => n * activationShape[d]);
        // Strides of the mask's own layout, over the axis dims only.
        var strides = new long[maskShape.Length];
        long s = 1;
        for (int d = maskShape.Length - 1; d >= 0; d--) { strides[d] = s; s *= maskShape[d]; }
        for (long cell = 0; cell < count; cell++)
        {
            var data = new bool[s];
            long rest = cell, offset = 0;
            for (int a = dims.Length - 1; a >= 0; a--)
            {
                long size = activationShape[dims[a]];
                offset += rest % size * strides[dims[a]];
                rest /= size;
            }
            data[offset] = true;
            yield return Tensor.FromArray(data, maskShape, DType.Bool, device);
        }
    }
}
