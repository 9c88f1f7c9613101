namespace MechInterp.Saes;

/// <summary>
/// The BatchTopK SAE (Bussmann et al. 2024; SAELens <c>BatchTopKTrainingSAE</c>), a training class: the
/// int(k · rows) largest values of relu(h') over the whole batch are kept (h' = h · ‖W_dec row‖ when
/// <see cref="Rescale"/>), so k is a float, the mean L0 per row. Each training pass moves the running
/// <see cref="TopKThreshold"/> towards the smallest kept value; <see cref="ToInference"/> and <see cref="Sae.Save"/> turn
/// it into a JumpReLU SAE with that threshold (decoder norms folded), as SAELens's <c>save_inference_model</c> does.
/// Losses: mse + the TopK auxiliary loss.
/// </summary>
public class BatchTopKSae : Sae
{
    /// <summary>Builds the training SAE from W_enc, b_enc, W_dec, b_dec (extra weights such as a threshold are ignored).</summary>
    /// <param name="config">The config; its architecture is recorded as <c>batchtopk</c>.</param>
    /// <param name="weights">The four linear weights.</param>
    /// <param name="k">Mean latents kept per row (a float).</param>
    /// <param name="topKThreshold">The running threshold to start from.</param>
    /// <param name="thresholdLearningRate">The threshold's update rate per training pass.</param>
    public BatchTopKSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights, double k, double topKThreshold = 0, double thresholdLearningRate = 0.01)
        : base(config with { Architecture = "batchtopk", K = null, RescaleActsByDecoderNorm = config.RescaleActsByDecoderNorm ?? true }, SaeRegistry.LinearWeights(config), weights)
    {
        if (!(k > 0) || k > config.DSae) throw new ArgumentOutOfRangeException(nameof(k), k, $"BatchTopK k must be in (0, d_sae = {config.DSae}]");
        K = k;
        TopKThreshold = topKThreshold;
        ThresholdLearningRate = thresholdLearningRate;
    }

    /// <summary>Mean latents kept per row.</summary>
    public double K { get; }

    /// <summary>The running threshold (float64, as SAELens keeps it): (1 − lr) · t + lr · min(positive latents) per pass.</summary>
    public double TopKThreshold { get; internal set; }

    /// <summary>The threshold's update rate.</summary>
    public double ThresholdLearningRate { get; }

    /// <summary>Whether pre-activations are multiplied by the decoder norms before the batch top-k.</summary>
    public bool Rescale => Config.RescaleActsByDecoderNorm ?? true;

    /// <summary>Encoder bias [d_sae].</summary>
    public Tensor BEnc => W("b_enc");

    /// <summary>Batch top-k latents; the pre-activation returned is h' (after the rescale).</summary>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn)
    {
        var hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, BEnc)); // [..., d_sae]
        var rescaled = Rescale ? hiddenPre * DecoderNorms() : hiddenPre;
        return (Run(HookSaeActsPost, KeepBatchTopK(rescaled.Relu(), K)), rescaled);
    }

    /// <summary>The int(k · rows) largest entries of <paramref name="acts"/> [..., d_sae] over all rows, zeros elsewhere.</summary>
    internal static Tensor KeepBatchTopK(Tensor acts, double k)
    {
        long rows = acts.NumElements / acts.Shape[^1];
        int keep = (int)Math.Min(Math.Floor(k * rows), acts.NumElements);
        var flat = acts.Reshape(-1);                                           // [rows * d_sae]
        var (values, indices) = flat.TopK(keep, -1);                           // [keep]
        return Tensor.ZerosLike(flat).ScatterAdd(0, indices, values).Reshape(acts.Shape);
    }

    /// <inheritdoc/>
    protected override Tensor DecodeRaw(Tensor f) => Linear(Rescale ? f * DecoderNorms().Reciprocal() : f, WDec, BDec);

    /// <summary><c>auxiliary_reconstruction_loss</c>; also moves <see cref="TopKThreshold"/>.</summary>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses)
    {
        UpdateThreshold(inputs.FeatureActs);
        losses.Add(new("auxiliary_reconstruction_loss", TopKSae.AuxiliaryLoss(this, inputs)));
    }

    private void UpdateThreshold(Tensor featureActs)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var positive = featureActs.Detach().To(DType.Float64);
        var min = Tensor.Where(positive > 0, positive, Tensor.Full([], double.PositiveInfinity, DType.Float64, positive.Device)).Min().Item<double>();
        if (double.IsFinite(min)) TopKThreshold = (1 - ThresholdLearningRate) * TopKThreshold + ThresholdLearningRate * min;
    }

    /// <summary>The inference form: a JumpReLU SAE with every threshold = <see cref="TopKThreshold"/> and, with the
    /// rescale, the decoder norms folded (W_enc columns and b_enc × ‖W_dec row‖, W_dec rows unit; the threshold is not rescaled).</summary>
    public JumpReluSae ToInference()
    {
        using var noGrad = GradMode.NoGrad();
        var weights = InferenceWeights().ToDictionary(w => w.Name, w => w.Value.DetachFromScopes());
        return new JumpReluSae(ConfigForSaving(), weights);
    }

    private List<(string Name, Tensor Value)> InferenceWeights()
    {
        var norms = Rescale ? DecoderNorms() : Tensor.OnesLike(BEnc); // [d_sae]
        return
        [
            ("W_enc", WEnc * norms), ("b_enc", BEnc * norms), ("W_dec", WDec / norms.Unsqueeze(1)), ("b_dec", BDec.Clone()),
            ("threshold", Tensor.Full([Config.DSae], TopKThreshold, ComputeDType, Device)),
        ];
    }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Value)> WeightsForSaving() => InferenceWeights();

    /// <inheritdoc/>
    protected override SaeConfig ConfigForSaving() => Config with { Architecture = "jumprelu", K = null, RescaleActsByDecoderNorm = null };
}
