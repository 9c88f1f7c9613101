namespace MechInterp.Saes;

/// <summary>
/// The JumpReLU SAE (SAELens <c>jumprelu</c>; Rajamanoharan et al. 2024): f = relu(h) · (h &gt; θ) with a per-latent
/// threshold θ. The threshold is a plain trainable parameter (not its log: SAELens's log-threshold froze under Adam),
/// trained through straight-through estimators with <see cref="SaeLossOptions.JumpReluBandwidth"/>. Losses: mse +
/// <c>l0_loss</c> (step: l0 · mean(#{h &gt; θ}); tanh: l0 · mean(Σ tanh(scale · f · ‖W_dec row‖))) and, when a
/// coefficient c is given, <c>pre_act_loss</c> = c · mean(Σ relu(θ − h) · dead · ‖W_dec row‖). BatchTopK SAEs are saved in this form.
/// </summary>
public class JumpReluSae : Sae
{
    /// <summary>cfg.json <c>jumprelu</c>: W_enc, b_enc, W_dec, b_dec, threshold.</summary>
    public static SaeArchitecture Definition { get; } = new("jumprelu", Specs, (c, w) => new JumpReluSae(c, w));

    internal static IReadOnlyList<SaeWeightSpec> Specs(SaeConfig c) => SaeRegistry.LinearWeights(c, new SaeWeightSpec("threshold", [c.DSae]));

    /// <summary>Builds the SAE from a <c>jumprelu</c> config and its five weights.</summary>
    public JumpReluSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, Specs(config), weights) { }

    /// <summary>Encoder bias [d_sae].</summary>
    public Tensor BEnc => W("b_enc");

    /// <summary>Per-latent threshold θ [d_sae].</summary>
    public Tensor Threshold => W("threshold");

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn) => JumpReluEncode(saeIn, BEnc, Threshold);

    /// <summary>Training mode: h · (h &gt; θ) with straight-through gradients to θ (same values as inference for θ &gt; 0).</summary>
    protected override (Tensor FeatureActs, Tensor HiddenPre) TrainingEncode(Tensor saeIn) => JumpReluTrainingEncode(saeIn, BEnc, Threshold);

    /// <summary><c>l0_loss</c> and (with a coefficient) <c>pre_act_loss</c>.</summary>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses) => AddJumpReluLosses(this, Threshold, inputs, losses);

    /// <summary>The JumpReLU losses, shared with the JumpReLU transcoder.</summary>
    internal static void AddJumpReluLosses(Sae sae, Tensor threshold, SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses)
    {
        var o = inputs.Options;
        var norms = sae.DecoderNorms(); // [d_sae]
        if (o.JumpReluSparsityLoss == JumpReluSparsityLoss.Step)
        {
            var l0 = JumpReluOps.Step(inputs.HiddenPre, threshold, o.JumpReluBandwidth).Sum(-1).Mean();
            losses.Add(new("l0_loss", l0 * o.SparsityCoefficient));
        }
        else
        {
            var l0 = (inputs.FeatureActs * norms * o.JumpReluTanhScale).Tanh().Sum(-1).Mean();
            losses.Add(new("l0_loss", l0 * o.SparsityCoefficient));
        }
        if (o.PreActLossCoefficient is { } c)
        {
            var pre = inputs.DeadMask is null || inputs.DeadCount() == 0
                ? Tensor.Zeros([], sae.ComputeDType, sae.Device)
                : ((threshold - inputs.HiddenPre).Relu() * inputs.DeadMask.To(sae.ComputeDType) * norms).Sum(-1).Mean() * c;
            losses.Add(new("pre_act_loss", pre));
        }
    }
}
