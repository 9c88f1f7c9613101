namespace MechInterp;

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
    /// <summary>
    /// Whether float32 weights stay in the memory-mapped checkpoint instead of being copied (managed CPU device only).
    /// Unset (the default) means yes on <see cref="Device.Cpu"/> with a Float32 <see cref="DType"/> and no elsewhere:
    /// Torch devices and half precision copy the weights anyway. A mapped weight costs no load-time copy and no
    /// private memory: its pages are the page cache's, shared between processes that load the same file. Weights that
    /// weight processing changes, that need a layout copy (fused per-head q|k|v) or that are stored as F16/BF16 are
    /// copied as before. The file stays mapped until the model is disposed and must not be rewritten in place
    /// meanwhile (replacing it by rename, as downloads and <c>SafeTensorsWriter</c> do, is safe).
    /// </summary>
    public bool? MemoryMapWeights { get; init; }
    /// <summary>Give the memory that conversion needed back to the OS when loading ends (see
    /// <see cref="Device.ReleaseCachedMemory"/>): the checkpoint's host copies and a whole model's layout conversions
    /// would otherwise stay in the managed buffer pool, sized for weights and rarely reused by activations, for the
    /// life of the process. On by default; turn it off when loading many models back to back and release once.</summary>
    public bool ReleaseCachedMemory { get; init; } = true;
    /// <summary>Config switches to overwrite after mapping (e.g. UseAttnResult = true).</summary>
    public Func<HookedTransformerConfig, HookedTransformerConfig>? ConfigureConfig { get; init; }

    /// <summary>The processing these options ask for.</summary>
    public WeightProcessing Processing => new(FoldLayerNorm, CenterWritingWeights, CenterUnembed, FoldValueBiases);

    /// <summary>Resolves <see cref="MemoryMapWeights"/>; throws when mapping is asked for where it cannot apply.</summary>
    internal bool ShouldMemoryMap()
    {
        bool possible = !Device.IsTorch && DType == DType.Float32;
        if (MemoryMapWeights == true && !possible)
            throw new NotSupportedException($"MemoryMapWeights = true needs the managed CPU device and Float32, but these options ask for {Device} and {DType}: weights are copied into that device's memory anyway; leave MemoryMapWeights unset");
        return MemoryMapWeights ?? possible;
    }
}
