namespace MechInterp.Saes;

public abstract partial class Sae
{
    // The activation functions and the sparsity loss that an SAE and its transcoder twin share (standard ↔ transcoder,
    // jumprelu ↔ jumprelu_transcoder): written once here, chosen by each architecture's file.

    /// <summary>ReLU encode: h = sae_in · W_enc + b_enc (hook_sae_acts_pre), f = relu(h) (hook_sae_acts_post).</summary>
    private protected (Tensor FeatureActs, Tensor HiddenPre) ReluEncode(Tensor saeIn, Tensor bEnc)
    {
        var hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, bEnc)); // [..., d_sae]
        return (Run(HookSaeActsPost, hiddenPre.Relu()), hiddenPre);
    }

    /// <summary>JumpReLU encode: f = relu(h) · (h &gt; θ), strict.</summary>
    private protected (Tensor FeatureActs, Tensor HiddenPre) JumpReluEncode(Tensor saeIn, Tensor bEnc, Tensor threshold)
    {
        var hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, bEnc)); // [..., d_sae]
        var f = hiddenPre.Relu() * (hiddenPre > threshold).To(hiddenPre.DType);
        return (Run(HookSaeActsPost, f), hiddenPre);
    }

    /// <summary>JumpReLU in training: h · (h &gt; θ) with straight-through gradients to θ (same values as inference for θ &gt; 0).</summary>
    private protected (Tensor FeatureActs, Tensor HiddenPre) JumpReluTrainingEncode(Tensor saeIn, Tensor bEnc, Tensor threshold)
    {
        var hiddenPre = Run(HookSaeActsPre, Linear(saeIn, WEnc, bEnc)); // [rows, d_sae]
        return (Run(HookSaeActsPost, JumpReluOps.JumpRelu(hiddenPre, threshold, LossOptions.JumpReluBandwidth)), hiddenPre);
    }

    /// <summary><c>l1_loss</c> = l1 · mean over rows of ‖f · ‖W_dec row‖‖_p (SAELens's standard sparsity loss).</summary>
    private protected void AddDecoderWeightedL1Loss(SaeLossInputs inputs, List<KeyValuePair<string, Tensor>> losses)
    {
        var weighted = inputs.FeatureActs * DecoderNorms(); // [rows, d_sae]
        double p = inputs.Options.LpNorm;
        var norm = p == 1 ? weighted.Abs().Sum(-1) : weighted.Norm(p, -1);  // [rows]
        losses.Add(new("l1_loss", norm.Mean() * inputs.Options.SparsityCoefficient));
    }
}
