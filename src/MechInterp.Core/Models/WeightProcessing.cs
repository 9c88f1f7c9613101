namespace MechInterp;

/// <summary>Which TransformerLens weight processing steps a model's weights have been through.</summary>
/// <param name="FoldLayerNorm">Norm weights (and biases) folded into the following matrices; norms become LNPre/RMSPre.</param>
/// <param name="CenterWritingWeights">Matrices writing to the residual stream have zero mean over d_model.</param>
/// <param name="CenterUnembed">W_U has zero mean over the vocabulary (log-softmax unchanged).</param>
/// <param name="FoldValueBiases">b_V folded into b_O.</param>
public sealed record WeightProcessing(bool FoldLayerNorm, bool CenterWritingWeights, bool CenterUnembed, bool FoldValueBiases)
{
    /// <summary>No processing: HF-exact weights.</summary>
    public static WeightProcessing None { get; } = new(false, false, false, false);
}

/// <summary>Loading progress: <paramref name="Stage"/> and how many of <paramref name="Total"/> items are done.</summary>
public readonly record struct LoadProgress(string Stage, int Done, int Total, string? Item = null);
