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

    // The input of the last sparse training encode (null after a dense one): the auxiliary loss recomputes its
    // pre-activations from it.
    private Tensor? _sparseTrainingInput;

    private (Tensor F, Tensor Rescaled, Tensor HiddenPre) EncodeTopK(Tensor saeIn)
    {
        _sparseTrainingInput = null;
        if (InTraining && UseSparseDecode && GradMode.IsEnabled && saeIn.Rank == 2 && HookSaeActsPre.IsObservedOnly && HookSaeActsPost.IsObservedOnly)
            return EncodeTopKSparse(saeIn);
        var hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, BEnc)); // [..., d_sae]
        var rescaled = Rescale ? hiddenPre * DecoderNorms() : hiddenPre;
        var (values, indices) = rescaled.TopK(K, -1);                    // [..., k]
        values = values.Relu();
        var f = Run(HookSaeActsPost, Tensor.ZerosLike(rescaled).ScatterAdd(-1, indices, values)); // [..., d_sae]
        _lastTopK = (f, values, indices);
        return (f, rescaled, hiddenPre);
    }

    /// <summary>
    /// Training encode whose gradient is sparse: the dense pre-activations [rows, d_sae] and the top-k choice are computed
    /// without a graph, and only the k kept values per row are recomputed with one (the k encoder columns gathered and
    /// dotted with the input), so backward touches k of d_sae columns of W_enc per row instead of two dense
    /// [rows, d_sae] products. The latents f carry no graph; the sparse decode reads the differentiable values.
    /// Same losses and gradients as the dense path (tested); the returned pre-activations carry no graph either, and
    /// the auxiliary loss recomputes the ones it uses (<see cref="PreActivationsAt"/>).
    /// </summary>
    private (Tensor F, Tensor Rescaled, Tensor HiddenPre) EncodeTopKSparse(Tensor saeIn)
    {
        Tensor hiddenPre, rescaled, indices;
        using (GradMode.NoGrad())
        {
            hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, BEnc));    // [rows, d_sae]
            rescaled = Rescale ? hiddenPre * DecoderNorms() : hiddenPre;
            indices = rescaled.TopK(K, -1).Indices;                        // [rows, k]
        }
        var values = PreActivationsAt(saeIn, indices).Relu();              // [rows, k], differentiable
        Tensor f;
        using (GradMode.NoGrad()) f = Run(HookSaeActsPost, Tensor.ZerosLike(rescaled).ScatterAdd(-1, indices, values.Detach()));
        _lastTopK = (f, values, indices);
        _sparseTrainingInput = saeIn;
        return (f, rescaled, hiddenPre);
    }

    /// <summary>The (rescaled, when <see cref="Rescale"/>) pre-activations [rows, k] of latents <paramref name="indices"/>
    /// [rows, k] for input rows <paramref name="saeIn"/> [rows, d_in], with gradients to the encoder (and the decoder
    /// norms): x · W_enc[:, i] + b_enc[i].</summary>
    private Tensor PreActivationsAt(Tensor saeIn, Tensor indices)
    {
        long rows = indices.Shape[0], k = indices.Shape[1];
        var flat = indices.Reshape(-1);                                                    // [rows * k]
        var columns = WEnc.T.Contiguous().IndexSelect(0, flat).Reshape(rows, k, -1);      // [rows, k, d_in]
        var pre = columns.MatMul(saeIn.Unsqueeze(-1)).Squeeze(-1) + BEnc.IndexSelect(0, flat).Reshape(rows, k);
        return Rescale ? pre * DecoderNorms().IndexSelect(0, flat).Reshape(rows, k) : pre;
    }

    /// <summary>The differentiable pre-activations at <paramref name="indices"/> when the last training encode was sparse
    /// (its pre-activations carry no graph), else null.</summary>
    internal Tensor? SparseTrainingPreActivations(Tensor indices) =>
        _sparseTrainingInput is { } input ? PreActivationsAt(input, indices) : null;

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

    /// <summary>Whether Decode of an Encode's own latents gathers k decoder rows (default) instead of a dense product; in
    /// training (<see cref="Sae.TrainingForward"/> without editing hooks on the SAE's points) also whether the encoder's
    /// gradient is computed for the k kept latents only.</summary>
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
        if (sae is TopKSae topK && topK.SparseTrainingPreActivations(indices) is { } recomputed) values = recomputed;
        var auxActs = Tensor.ZerosLike(inputs.HiddenPre).ScatterAdd(-1, indices, values);          // [rows, d_sae]
        var recons = sae.Decode(auxActs);                                                          // [rows, d_out]
        return MeanRowSquaredError(recons, residual) * (inputs.Options.AuxLossCoefficient * scale);
    }
}
