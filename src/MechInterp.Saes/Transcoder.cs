namespace MechInterp.Saes;

/// <summary>
/// A transcoder (SAELens <c>transcoder</c>; Dunefsky et al. 2024): reads one hook (<c>metadata.hook_name</c>, d_in)
/// and predicts another (<c>metadata.hook_name_out</c>, d_out), e.g. an MLP's output from its input:
/// f = relu(x @ W_enc + b_enc), out = f @ W_dec + b_dec. No b_dec subtraction and no un-normalising of the output.
/// Loss: mse against the output hook + l1 as the standard SAE's.
/// </summary>
public class Transcoder : Sae
{
    /// <summary>cfg.json <c>transcoder</c>: W_enc [d_in, d_sae], b_enc, W_dec [d_sae, d_out], b_dec [d_out].</summary>
    public static SaeArchitecture Definition { get; } = new("transcoder", c => SaeRegistry.LinearWeights(c), (c, w) => new Transcoder(c, w));

    /// <summary>Builds the transcoder from a config (with d_out) and its weights.</summary>
    public Transcoder(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : this(config, SaeRegistry.LinearWeights(config), weights) { }

    /// <summary>For subclasses with more weights.</summary>
    protected Transcoder(SaeConfig config, IReadOnlyList<SaeWeightSpec> specs, IReadOnlyDictionary<string, Tensor> weights) : base(config, specs, weights)
    {
        if (config.DOut is null) throw new ArgumentException("a transcoder's config needs d_out", nameof(config));
    }

    /// <inheritdoc/>
    public override bool IsTranscoder => true;

    /// <summary>Encoder bias [d_sae].</summary>
    public Tensor BEnc => W("b_enc");

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn) => ReluEncode(saeIn, BEnc);

    /// <summary><c>l1_loss</c> = l1 · mean over rows of ‖f · ‖W_dec row‖‖_p.</summary>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses) => AddDecoderWeightedL1Loss(inputs, losses);
}
