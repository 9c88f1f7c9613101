using System.Text.Json.Nodes;

namespace MechInterp.Saes;

/// <summary>How an SAE normalises its input per row before encoding (SAELens's <c>normalize_activations</c>).</summary>
public enum ActivationNormalization
{
    /// <summary><c>none</c>: identity.</summary>
    None,
    /// <summary><c>expected_average_only_in</c>: identity when loading a folder (only SAELens's pretrained directory folds a factor in).</summary>
    ExpectedAverageOnlyIn,
    /// <summary><c>constant_norm_rescale</c>: x · sqrt(d_in)/‖x‖ in, divided by the same factor out.</summary>
    ConstantNormRescale,
    /// <summary><c>layer_norm</c>: (x − μ)/(σ + 1e-5) in (σ the unbiased std), y · σ + μ out.</summary>
    LayerNorm,
}

/// <summary>
/// The inference configuration of an SAE or transcoder, as SAELens 6.x writes it in <c>cfg.json</c>. Fields that only
/// some architectures have are null elsewhere (<see cref="K"/> and <see cref="RescaleActsByDecoderNorm"/> for TopK,
/// <see cref="DOut"/> for transcoders). <see cref="Metadata"/> keeps SAELens's metadata object (hook name, model name,
/// ...) in its order so that a saved folder carries it unchanged.
/// </summary>
public sealed record SaeConfig
{
    /// <summary>The cfg.json <c>architecture</c> string (<c>standard</c>, <c>topk</c>, <c>jumprelu</c>, ...).</summary>
    public required string Architecture { get; init; }

    /// <summary>Input width (for hook_z SAEs: n_heads · d_head).</summary>
    public required int DIn { get; init; }

    /// <summary>Number of latents.</summary>
    public required int DSae { get; init; }

    /// <summary>Output width of a transcoder; null for SAEs (whose output width is <see cref="DIn"/>).</summary>
    public int? DOut { get; init; }

    /// <summary>The dtype string as written (<c>float32</c>, <c>torch.bfloat16</c>, ...): the weights are saved in it.</summary>
    public string DType { get; init; } = "float32";

    /// <summary>The device string as written (<c>cpu</c>, <c>cuda</c>); informational: where to compute is chosen at load.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Whether <c>b_dec</c> is subtracted from the (normalised) input before encoding.</summary>
    public bool ApplyBDecToInput { get; init; } = true;

    /// <summary>Input normalisation mode.</summary>
    public ActivationNormalization NormalizeActivations { get; init; } = ActivationNormalization.None;

    /// <summary>True for <c>reshape_activations: "hook_z"</c>: input [..., n_heads, d_head] is flattened head-major.</summary>
    public bool ReshapeHookZ { get; init; }

    /// <summary>TopK: latents kept per row.</summary>
    public int? K { get; init; }

    /// <summary>TopK: whether pre-activations are multiplied by the decoder row norms before the top-k.</summary>
    public bool? RescaleActsByDecoderNorm { get; init; }

    /// <summary>SAELens's metadata object (sae_lens_version, model_name, hook_name, ...), in its original order.</summary>
    public JsonObject Metadata { get; init; } = new();

    /// <summary>Output width: <see cref="DOut"/> for transcoders, <see cref="DIn"/> otherwise.</summary>
    public int OutputWidth => DOut ?? DIn;

    /// <summary>The model hook this SAE reads (<c>metadata.hook_name</c>), or null when the cfg has none.</summary>
    public string? HookName => Metadata["hook_name"]?.GetValue<string>();

    /// <summary>The hook a transcoder writes (<c>metadata.hook_name_out</c>), or null.</summary>
    public string? HookNameOut => Metadata["hook_name_out"]?.GetValue<string>();

    /// <summary>The element type the weights are stored in (from <see cref="DType"/>).</summary>
    public MechInterp.DType StorageDType => SaeConfigJson.ParseDType(DType, "cfg.json", "dtype");

    /// <summary>A copy with a deep copy of <see cref="Metadata"/> (records copy references otherwise).</summary>
    public SaeConfig Copy() => this with { Metadata = (JsonObject)Metadata.DeepClone() };
}
