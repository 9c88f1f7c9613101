namespace MechInterp.Saes;

public abstract partial class Sae
{
    private static readonly string[] s_perLatentScaled = ["b_enc", "b_gate", "b_mag", "threshold"];

    /// <summary>
    /// Makes every decoder row unit norm without changing the reconstruction (SAELens's <c>fold_W_dec_norm</c>): with
    /// n = ‖W_dec row‖, W_dec rows ÷ n, W_enc columns × n, and the per-latent b_enc, b_gate, b_mag and threshold × n
    /// (gated r_mag stays: scaling W_enc scales the magnitude path too). Latents are multiplied by n.
    /// </summary>
    /// <exception cref="InvalidOperationException">A TopK SAE without decoder-norm rescaling (folding would change which latents win).</exception>
    public void FoldWDecNorm()
    {
        CheckFoldable();
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var n = DecoderNorms();                                             // [d_sae]
        _weights["W_dec"].Value = (WDec / n.Unsqueeze(1)).Contiguous();
        _weights["W_enc"].Value = (WEnc * n).Contiguous();
        foreach (var name in s_perLatentScaled)
            if (_weights.TryGetValue(name, out var p)) p.Value = (p.Value * n).Contiguous();
    }

    /// <summary>Throws when folding the decoder norms would change this SAE's outputs.</summary>
    protected virtual void CheckFoldable() { }
}
