namespace MechInterp.Saes;

/// <summary>
/// The ReLU SAE (SAELens <c>standard</c>): f = relu(sae_in @ W_enc + b_enc). Training loss: mse + l1 ·
/// mean over rows of ‖f · ‖W_dec row‖‖_p (Bricken et al. 2023, with the decoder-norm weighting of Anthropic's April 2024 update).
/// </summary>
public class StandardSae : Sae
{
    /// <summary>cfg.json <c>standard</c>: W_enc, b_enc, W_dec, b_dec.</summary>
    public static SaeArchitecture Definition { get; } = new("standard", c => SaeRegistry.LinearWeights(c), (c, w) => new StandardSae(c, w));

    /// <summary>Builds the SAE from a <c>standard</c> config and its four weights.</summary>
    public StandardSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, SaeRegistry.LinearWeights(config), weights) { }

    /// <summary>Encoder bias [d_sae].</summary>
    public Tensor BEnc => W("b_enc");

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn) => ReluEncode(saeIn, BEnc);

    /// <summary><c>l1_loss</c> = l1 · mean over rows of ‖f · ‖W_dec row‖‖_p.</summary>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses) => AddDecoderWeightedL1Loss(inputs, losses);
}
