namespace MechInterp.Saes;

/// <summary>
/// Matryoshka BatchTopK (Bussmann et al. 2025; SAELens <c>MatryoshkaBatchTopKTrainingSAE</c>): a BatchTopK SAE whose
/// first w latents must also reconstruct x on their own for every nested width w of <see cref="Widths"/> but the last,
/// adding <c>inner_mse_loss_w</c> = mean(Σ (normalize_out(f[:, :w] @ W_dec[:w] + b_dec) − x)²) (latents divided by the
/// decoder norms first with the rescale). Saved as JumpReLU like BatchTopK.
/// </summary>
public sealed class MatryoshkaBatchTopKSae : BatchTopKSae
{
    /// <summary>Builds the training SAE; <paramref name="widths"/> must increase and end at d_sae.</summary>
    public MatryoshkaBatchTopKSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights, double k, IReadOnlyList<int> widths,
        double topKThreshold = 0, double thresholdLearningRate = 0.01)
        : base(config, weights, k, topKThreshold, thresholdLearningRate)
    {
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Count == 0 || widths[^1] != config.DSae || widths.Zip(widths.Skip(1)).Any(p => p.Second <= p.First) || widths[0] < 1)
            throw new ArgumentException($"Matryoshka widths must increase and end at d_sae = {config.DSae}, got [{string.Join(", ", widths)}]", nameof(widths));
        Widths = widths.ToArray();
    }

    /// <summary>The nested dictionary sizes, the last = d_sae.</summary>
    public IReadOnlyList<int> Widths { get; }

    /// <inheritdoc/>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses)
    {
        base.AddLosses(inputs, losses);
        var f = Rescale ? inputs.FeatureActs * DecoderNorms().Reciprocal() : inputs.FeatureActs; // [rows, d_sae]
        foreach (int w in Widths.Take(Widths.Count - 1))
        {
            var partial = Linear(f.Narrow(-1, 0, w), WDec.Narrow(0, 0, w), BDec);               // [rows, d_in]
            losses.Add(new($"inner_mse_loss_{w}", MeanRowSquaredError(NormalizeOut(partial), inputs.X)));
        }
    }
}
