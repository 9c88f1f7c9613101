namespace MechInterp.Saes;

/// <summary>
/// Fresh SAEs for training, initialised as SAELens does: decoder rows random directions of a given norm (Anthropic's
/// April 2024 update uses 0.1), the encoder their transpose, biases zero, JumpReLU thresholds a small constant.
/// </summary>
public static class SaeInitialization
{
    /// <summary>A new SAE of <paramref name="config"/>'s architecture (any registered one) on <paramref name="device"/>.</summary>
    public static Sae Create(SaeConfig config, Generator generator, Device? device = null, double decoderInitNorm = 0.1, double initialThreshold = 0.001)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(generator);
        var architecture = SaeRegistry.Get(config.Architecture);
        return architecture.Create(config, Weights(architecture.Weights(config), config, generator, device ?? Device.Cpu, decoderInitNorm, initialThreshold));
    }

    /// <summary>A new BatchTopK (or, with <paramref name="matryoshkaWidths"/>, Matryoshka BatchTopK) training SAE.</summary>
    public static BatchTopKSae CreateBatchTopK(SaeConfig config, double k, Generator generator, Device? device = null, IReadOnlyList<int>? matryoshkaWidths = null, double decoderInitNorm = 0.1)
    {
        var weights = Weights(SaeRegistry.LinearWeights(config), config, generator, device ?? Device.Cpu, decoderInitNorm, 0);
        return matryoshkaWidths is null ? new BatchTopKSae(config, weights, k) : new MatryoshkaBatchTopKSae(config, weights, k, matryoshkaWidths);
    }

    private static Dictionary<string, Tensor> Weights(IReadOnlyList<SaeWeightSpec> specs, SaeConfig config, Generator generator, Device device, double norm, double threshold)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var dec = Tensor.Randn([config.DSae, config.OutputWidth], generator);        // [d_sae, d_out]
        dec = dec / dec.Norm(2, 1, keepDim: true) * norm;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            Tensor t = spec.Name switch
            {
                "W_dec" => dec,
                "W_enc" when config.OutputWidth == config.DIn => dec.T.Contiguous(),
                "W_enc" => Tensor.Randn([config.DIn, config.DSae], generator) * (norm / Math.Sqrt(config.DIn)),
                "threshold" => Tensor.Full(spec.Shape, threshold),
                _ => Tensor.Zeros(spec.Shape),
            };
            result[spec.Name] = t.To(device).Contiguous().MoveToOuterScope().DetachFromScopes();
        }
        return result;
    }
}
