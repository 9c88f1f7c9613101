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

/// <summary>How to load a pretrained model.</summary>
public sealed record LoadOptions
{
    /// <summary>Device for the weights (managed CPU by default).</summary>
    public Device Device { get; init; } = Device.Cpu;
    /// <summary>Compute dtype: Float32 (default); Float16/BFloat16 keep half-precision weights on Torch devices.</summary>
    public DType DType { get; init; } = DType.Float32;
    /// <summary>Fold norm weights into the next layer (TransformerLens fold_ln).</summary>
    public bool FoldLayerNorm { get; init; }
    /// <summary>Center weights writing to the residual stream.</summary>
    public bool CenterWritingWeights { get; init; }
    /// <summary>Center the unembedding.</summary>
    public bool CenterUnembed { get; init; }
    /// <summary>Fold value biases into the output bias.</summary>
    public bool FoldValueBiases { get; init; }
    /// <summary>Progress of loading.</summary>
    public IProgress<LoadProgress>? Progress { get; init; }
    /// <summary>Hugging Face revision (branch, tag or commit) when loading by model id.</summary>
    public string Revision { get; init; } = "main";
    /// <summary>Config switches to overwrite after mapping (e.g. UseAttnResult = true).</summary>
    public Func<HookedTransformerConfig, HookedTransformerConfig>? ConfigureConfig { get; init; }

    /// <summary>The processing these options ask for.</summary>
    public WeightProcessing Processing => new(FoldLayerNorm, CenterWritingWeights, CenterUnembed, FoldValueBiases);
}

/// <summary>Loading progress: <paramref name="Stage"/> and how many of <paramref name="Total"/> items are done.</summary>
public readonly record struct LoadProgress(string Stage, int Done, int Total, string? Item = null);
