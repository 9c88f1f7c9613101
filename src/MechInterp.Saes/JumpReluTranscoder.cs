namespace MechInterp.Saes;

/// <summary>
/// A transcoder with JumpReLU latents (SAELens <c>jumprelu_transcoder</c>): f = relu(h) · (h &gt; θ). Losses as
/// <see cref="JumpReluSae"/>'s, with the mse against the output hook.
/// </summary>
public class JumpReluTranscoder : Transcoder
{
    /// <summary>cfg.json <c>jumprelu_transcoder</c>: the transcoder's weights + threshold [d_sae].</summary>
    public static new SaeArchitecture Definition { get; } = new("jumprelu_transcoder", JumpReluSae.Specs, (c, w) => new JumpReluTranscoder(c, w));

    /// <summary>Builds the transcoder from a config (with d_out) and its five weights.</summary>
    public JumpReluTranscoder(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, JumpReluSae.Specs(config), weights) { }

    /// <summary>Per-latent threshold θ [d_sae].</summary>
    public Tensor Threshold => W("threshold");

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn) => JumpReluEncode(saeIn, BEnc, Threshold);

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) TrainingEncode(Tensor saeIn) => JumpReluTrainingEncode(saeIn, BEnc, Threshold);

    /// <inheritdoc/>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses) =>
        JumpReluSae.AddJumpReluLosses(this, Threshold, inputs, losses);
}
