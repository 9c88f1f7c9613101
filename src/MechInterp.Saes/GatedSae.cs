namespace MechInterp.Saes;

/// <summary>
/// The gated SAE (SAELens <c>gated</c>; Rajamanoharan et al. 2024): a gate (sae_in @ W_enc + b_gate &gt; 0) decides
/// which latents fire and a magnitude path relu(sae_in @ (W_enc · exp(r_mag)) + b_mag) how strongly; no b_enc.
/// Losses: mse + <c>l1_loss</c> = l1 · mean(Σ π · ‖W_dec row‖) with π = relu((x − b_dec) @ W_enc + b_gate) on the raw
/// input, and <c>auxiliary_reconstruction_loss</c> = mean(Σ (π @ W_dec + b_dec − x)²).
/// </summary>
public class GatedSae : Sae
{
    /// <summary>cfg.json <c>gated</c>: W_enc, b_gate, r_mag, b_mag, W_dec, b_dec.</summary>
    public static SaeArchitecture Definition { get; } = new("gated", Specs, (c, w) => new GatedSae(c, w));

    internal static IReadOnlyList<SaeWeightSpec> Specs(SaeConfig c) =>
    [
        new("W_enc", [c.DIn, c.DSae]), new("b_gate", [c.DSae]), new("r_mag", [c.DSae]), new("b_mag", [c.DSae]),
        new("W_dec", [c.DSae, c.OutputWidth]), new("b_dec", [c.OutputWidth]),
    ];

    /// <summary>Builds the SAE from a <c>gated</c> config and its six weights.</summary>
    public GatedSae(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, Specs(config), weights) { }

    /// <summary>Gate bias [d_sae].</summary>
    public Tensor BGate => W("b_gate");
    /// <summary>Log-scale of the magnitude path's encoder columns [d_sae].</summary>
    public Tensor RMag => W("r_mag");
    /// <summary>Magnitude bias [d_sae].</summary>
    public Tensor BMag => W("b_mag");

    /// <summary>The gate's pre-activation sae_in @ W_enc + b_gate [..., d_sae].</summary>
    public Tensor GatePre(Tensor saeIn) => Linear(saeIn, WEnc, BGate);

    /// <inheritdoc/>
    protected override (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn)
    {
        var active = (GatePre(saeIn) > 0).To(saeIn.DType);                          // [..., d_sae]
        var magnitudePre = Run(HookSaeActsPre, Linear(saeIn, WEnc * RMag.Exp(), BMag)); // [..., d_sae]
        return (Run(HookSaeActsPost, active * magnitudePre.Relu()), magnitudePre);
    }

    /// <inheritdoc/>
    protected override void AddLosses(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses)
    {
        var x = inputs.X;                                                            // [rows, d_in]
        var gateIn = Config.ApplyBDecToInput ? x - BDec : x;
        var pi = Linear(gateIn, WEnc, BGate).Relu();                                 // [rows, d_sae]
        losses.Add(new("l1_loss", (pi * DecoderNorms()).Sum(-1).Mean() * inputs.Options.SparsityCoefficient));
        losses.Add(new("auxiliary_reconstruction_loss", MeanRowSquaredError(Linear(pi, WDec, BDec), x)));
    }
}
