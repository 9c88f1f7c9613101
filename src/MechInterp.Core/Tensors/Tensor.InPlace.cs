namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>Writes <paramref name="source"/>'s elements into this tensor's own storage (same shape, dtype and device).
    /// This tensor may be a view (a <see cref="Narrow"/> of a preallocated buffer): only its elements change, and every
    /// other view of the storage sees them. No gradient is recorded, so neither tensor may take part in one.</summary>
    internal void CopyInPlace(Tensor source)
    {
        if (!source.Shape.AsSpan().SequenceEqual(Shape) || source.DType != DType || source.Device != Device)
            throw new ArgumentException($"CopyInPlace: cannot write a {ShapeString(source.Shape)} {source.DType} tensor on {source.Device} into a {ShapeString(Shape)} {DType} tensor on {Device}", nameof(source));
        if (RequiresGrad && GradMode.IsEnabled)
            throw new InvalidOperationException("CopyInPlace into a tensor that records gradients: the write would not be part of its graph");
        Backend.CopyInPlace(Handle, source.Handle);
    }

    /// <summary>Adds <paramref name="bias"/> ([last dim]) to every row of this tensor's own contiguous storage; for
    /// engine-made outputs no gradient flows through (a GEMM result before its bias). Returns this tensor.</summary>
    internal Tensor AddBiasInPlace(Tensor bias)
    {
        if (GradMode.IsEnabled && (RequiresGrad || bias.RequiresGrad))
            throw new InvalidOperationException("AddBiasInPlace records no gradient: use + when one is needed");
        if (!IsContiguous || bias.Rank != 1 || bias.Shape[0] != Shape[^1] || bias.DType != DType || bias.Device != Device)
            throw new ArgumentException($"AddBiasInPlace: a {ShapeString(bias.Shape)} {bias.DType} bias on {bias.Device} for a {(IsContiguous ? "" : "non-contiguous ")}{ShapeString(Shape)} {DType} tensor on {Device}", nameof(bias));
        AddBiasInPlaceCore(bias);
        return this;
    }

    /// <summary>One Adam/AdamW step that overwrites this parameter and its moments <paramref name="m"/> and
    /// <paramref name="v"/> in place (PyTorch's in-place semantics: views of the parameter see the new values).
    /// Returns false, changing nothing, where the backend has no fused step (the caller composes the update).</summary>
    internal bool TryAdamStepInPlace(Tensor grad, Tensor m, Tensor v, Backends.AdamStepArgs args)
    {
        if (Backend is not Backends.IInPlaceKernels k) return false;
        k.AdamStepInPlace(Handle, grad.Handle, m.Handle, v.Handle, args);
        return true;
    }

    /// <summary>Tells the backend these elements are model weights (read many times unchanged: worth keeping in a
    /// kernel-friendly layout while no write changes them).</summary>
    internal void MarkAsWeight()
    {
        if (Backend is Backends.IWeightPacking p) p.MarkWeight(Handle);
    }

    /// <summary>Marks this matrix as a weight and lets the backend make its kernel layout now (at load) rather than on
    /// its second use in a forward pass.</summary>
    internal void PrepackAsWeight()
    {
        if (Backend is Backends.IWeightPacking p) p.PrepackWeight(Handle);
    }

    /// <summary>The elements, row-major, in the array type of this tensor's dtype (float[], Half[], ushort[] for
    /// BFloat16 bits, long[], ...).</summary>
    internal Array ToStorageArray() => Backend.ToArray(Handle);

    /// <summary>A new view of entries [start, start + length) of <paramref name="dim"/> — always a new tensor, even for
    /// the whole range (unlike <see cref="Narrow"/>, which returns this tensor then), recording no gradient.</summary>
    internal Tensor NarrowView(int dim, long start, long length) => new(Backend.Narrow(Handle, dim, start, length));
}
