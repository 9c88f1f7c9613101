namespace MechInterp;

/// <summary>
/// Backward needed a tensor that an op saved when it ran, but that tensor (or a view sharing its storage) was written
/// in place afterwards, so the gradient would have been computed from the wrong values. PyTorch's "one of the variables
/// needed for gradient computation has been modified by an inplace operation", with the op named.
/// </summary>
public sealed class InPlaceModificationException(string op, long[] shape, long savedVersion, long currentVersion)
    : InvalidOperationException($"backward through '{op}' needs the {Tensor.ShapeString(shape)} tensor it saved, but that tensor (or a view sharing its storage) was written in place after '{op}' ran (write version {savedVersion} when saved, {currentVersion} now): use IndexPut, or clone before writing (IndexPut returns a new tensor and never conflicts)")
{
    /// <summary>The name of the op whose saved tensor changed (as <see cref="Tensor.GradFnName"/> reports it).</summary>
    public string Op { get; } = op;

    /// <summary>The storage's write version when the op saved the tensor.</summary>
    public long SavedVersion { get; } = savedVersion;

    /// <summary>The write version at backward.</summary>
    public long CurrentVersion { get; } = currentVersion;
}
