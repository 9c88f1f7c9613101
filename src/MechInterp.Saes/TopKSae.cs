namespace MechInterp.Saes;

/// <summary>
/// The TopK SAE (SAELens <c>topk</c>; Gao et al. 2024): keep the k largest pre-activations of each row (multiplied by
/// the decoder row norms first when <see cref="SaeConfig.RescaleActsByDecoderNorm"/>), ReLU them, zero the rest; decode
/// divides by the norms again. Training loss: mse + the auxiliary loss in which the k_aux = d_in/2 largest dead
/// latents reconstruct the residual x − sae_out (scaled by min(n_dead/k_aux, 1)).
/// </summary>
public class TopKSae : Sae
{
    /// <summary>cfg.json <c>topk</c>: W_enc, b_enc, W_dec, b_dec (+ k, rescale_acts_by_decoder_norm).</summary>
    public static SaeArchitecture Definition { get; } = new("topk", c => SaeRegistry.LinearWeights(c), (c, w) => new TopKSae(c, w));

    /// <summary>Builds the SAE from a <c>topk</c> config (which must give k) and its four weights.</summary>
    public TopKSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, SaeRegistry.LinearWeights(config), weights)
    {
        if (config.K is not { } k || k < 1 || k > config.DSae)
            throw new ArgumentException($"a TopK SAE needs k in 1..d_sae ({config.DSae}), got {config.K?.ToString() ?? "none"}", nameof(config));
    }

    /// <summary>Latents kept per row.</summary>
    public int K => Config.K!.Value;

    /// <summary>Whether pre-activations are multiplied by the decoder norms before the top-k (and latents divided by them in decode).</summary>
    public bool Rescale => Config.RescaleActsByDecoderNorm ?? false;

    /// <summary>Encoder bias [d_sae].</summary>
    public Tensor BEnc => W("b_enc");

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn)
    {
        var (f, _, hiddenPre) = EncodeTopK(saeIn);
        return (f, hiddenPre);
    }

    /// <summary>Training mode: the same latents; the losses use the rescaled pre-activations.</summary>
    protected override (Tensor FeatureActs, Tensor HiddenPre) TrainingEncode(Tensor saeIn)
    {
        var (f, rescaled, _) = EncodeTopK(saeIn);
        return (f, rescaled);
    }

    // The latents of the last encode with their k values and indices: Decode of those same latents gathers k decoder
    // rows (a hook that replaced the latents gives another tensor, which is decoded densely).
    private (Tensor F, Tensor Values, Tensor Indices)? _lastTopK;

    private (Tensor F, Tensor Rescaled, Tensor HiddenPre) EncodeTopK(Tensor saeIn)
    {
        var hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, BEnc)); // [..., d_sae]
        var rescaled = Rescale ? hiddenPre * DecoderNorms() : hiddenPre;
        var (values, indices) = rescaled.TopK(K, -1);                    // [..., k]
        values = values.Relu();
        var f = Run(HookSaeActsPost, Tensor.ZerosLike(rescaled).ScatterAdd(-1, indices, values)); // [..., d_sae]
        _lastTopK = (f, values, indices);
        return (f, rescaled, hiddenPre);
    }

    /// <summary>Decodes with a gather of the k decoder rows per row when <paramref name="f"/> is the last encode's
    /// latents (sparse forward and gradient), densely otherwise.</summary>
    protected override Tensor DecodeRaw(Tensor f)
    {
        if (_lastTopK is { } last && ReferenceEquals(last.F, f) && !last.Values.IsDisposed && !last.Indices.IsDisposed && UseSparseDecode)
        {
            var values = Rescale ? last.Values * DecoderNorms().Reciprocal().IndexSelect(0, last.Indices.Reshape(-1)).Reshape(last.Indices.Shape) : last.Values;
            return SparseTopKDecode.Decode(values, last.Indices, WDec, BDec);
        }
        return Linear(Rescale ? f * DecoderNorms().Reciprocal() : f, WDec, BDec);
    }

    /// <inheritdoc/>
    protected override void CheckFoldable()
    {
        if (!Rescale)
            throw new InvalidOperationException("folding the decoder norms into a TopK SAE without rescale_acts_by_decoder_norm would change which latents are in the top k (as SAELens refuses too)");
    }

    /// <summary>Whether Decode of an Encode's own latents gathers k decoder rows (default) instead of a dense product.</summary>
    public bool UseSparseDecode { get; set; } = true;

    /// <summary><c>auxiliary_reconstruction_loss</c> (0 without dead latents).</summary>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses) =>
        losses.Add(new("auxiliary_reconstruction_loss", AuxiliaryLoss(this, inputs)));

    /// <summary>
    /// aux = coefficient · min(n_dead/k_aux, 1) · mean over rows of Σ (Decode(a) − (x − sae_out))², where a keeps, per
    /// row, the k_aux = min(d_in/2, n_dead) largest (possibly negative) rescaled pre-activations among dead latents.
    /// </summary>
    internal static Tensor AuxiliaryLoss(Sae sae, SaeLossInputs inputs)
    {
        long nDead = inputs.DeadCount();
        if (nDead == 0) return Tensor.Zeros([], sae.ComputeDType, sae.Device);
        Tensor residual;
        using (GradMode.NoGrad()) residual = (inputs.X - inputs.SaeOut).Detach(); // [rows, d_in]
        int kAux = (int)(inputs.X.Shape[^1] / 2);
        double scale = Math.Min(nDead / (double)kAux, 1.0);
        kAux = (int)Math.Min(kAux, nDead);
        var deadOnly = Tensor.Where(inputs.DeadMask!, inputs.HiddenPre, Tensor.Full([], double.NegativeInfinity, sae.ComputeDType, sae.Device)); // [rows, d_sae]
        var (values, indices) = deadOnly.TopK(kAux, -1);                                          // [rows, k_aux]
        var auxActs = Tensor.ZerosLike(inputs.HiddenPre).ScatterAdd(-1, indices, values);          // [rows, d_sae]
        var recons = sae.Decode(auxActs);                                                          // [rows, d_out]
        return MeanRowSquaredError(recons, residual) * (inputs.Options.AuxLossCoefficient * scale);
    }
}
