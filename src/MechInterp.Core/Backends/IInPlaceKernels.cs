namespace MechInterp.Backends;

/// <summary>
/// Optional in-place writes that save a temporary (a backend capability): a bias added into a fresh GEMM product,
/// and one fused Adam step. Without them the bias is added out of place and copied back, and Adam composes its
/// update from tensor ops.
/// </summary>
internal interface IInPlaceKernels
{
    /// <summary>Adds a bias over the last dim in place: every row of <paramref name="x"/> (contiguous, owned by the
    /// caller, guaranteed by it) gets <paramref name="bias"/> ([last], same dtype) added.</summary>
    void AddBiasInPlace(TensorHandle x, TensorHandle bias);

    /// <summary>One Adam/AdamW step (<see cref="AdamStepArgs"/>) that overwrites <paramref name="param"/>,
    /// <paramref name="expAvg"/> (m) and <paramref name="expAvgSq"/> (v) in place from <paramref name="grad"/>. All four
    /// have the same shape and dtype, and the caller guarantees they are contiguous.</summary>
    void AdamStepInPlace(TensorHandle param, TensorHandle grad, TensorHandle expAvg, TensorHandle expAvgSq, AdamStepArgs args);
}
