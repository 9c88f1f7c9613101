namespace MechInterp.Saes;

/// <summary>
/// How much of the model's behaviour survives an SAE spliced in (SAEBench core, "model behaviour preservation"), on
/// next-token prediction over the same tokens:
/// <list type="bullet">
/// <item><see cref="CeLossScore"/> = (L_zero − L_sae) / (L_zero − L_clean), L the mean next-token cross entropy
/// with the hook's activation zero-ablated, replaced by the SAE's reconstruction, and untouched.</item>
/// <item><see cref="KlDivergenceScore"/> = (KL_zero − KL_sae) / KL_zero, KL the mean over positions of
/// KL(p_clean ‖ p_patched) of the next-token distributions.</item>
/// </list>
/// </summary>
/// <param name="LossClean">L_clean.</param>
/// <param name="LossWithSae">L_sae.</param>
/// <param name="LossZeroAblation">L_zero.</param>
/// <param name="KlWithSae">KL_sae.</param>
/// <param name="KlZeroAblation">KL_zero.</param>
public sealed record ModelFidelity(double LossClean, double LossWithSae, double LossZeroAblation, double KlWithSae, double KlZeroAblation)
{
    /// <summary>(L_zero − L_sae) / (L_zero − L_clean).</summary>
    public double CeLossScore => (LossZeroAblation - LossWithSae) / (LossZeroAblation - LossClean);

    /// <summary>(KL_zero − KL_sae) / KL_zero.</summary>
    public double KlDivergenceScore => (KlZeroAblation - KlWithSae) / KlZeroAblation;

    /// <summary>Runs <paramref name="model"/> on <paramref name="tokens"/> [batch, pos] clean, with <paramref name="sae"/>
    /// spliced in, and with the SAE's hook (a transcoder's output hook) zero-ablated.</summary>
    public static ModelFidelity Measure(IHookedModel model, Tensor tokens, Sae sae)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sae);
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        string hook = (sae.IsTranscoder ? sae.Config.HookNameOut : sae.Config.HookName)
            ?? throw new ArgumentException("the SAE's config names no hook (metadata.hook_name)", nameof(sae));
        var clean = model.Forward(tokens);                                                                  // [batch, pos, vocab]
        var spliced = model.RunWithSaes(tokens, [sae]);
        var zeroed = model.RunWithHooks(tokens, new HookSpec(hook, (x, _) => Tensor.ZerosLike(x)));
        return Compare(tokens, clean, spliced, zeroed);
    }

    /// <summary>The scores from the three runs' logits [batch, pos, vocab] on <paramref name="tokens"/> [batch, pos].</summary>
    public static ModelFidelity Compare(Tensor tokens, Tensor cleanLogits, Tensor saeLogits, Tensor zeroLogits)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var logp = cleanLogits.To(DType.Float64).LogSoftmax(-1);
        return new ModelFidelity(NextTokenLoss(cleanLogits, tokens), NextTokenLoss(saeLogits, tokens), NextTokenLoss(zeroLogits, tokens),
            MeanKl(logp, saeLogits), MeanKl(logp, zeroLogits));
    }

    /// <summary>Mean cross entropy of predicting token t+1 from position t [].</summary>
    public static double NextTokenLoss(Tensor logits, Tensor tokens)
    {
        long pos = logits.Shape[1];
        var predictions = logits.Narrow(1, 0, pos - 1).To(DType.Float64);                     // [batch, pos-1, vocab]
        var targets = tokens.To(logits.Device).Narrow(1, 1, pos - 1);                         // [batch, pos-1]
        var logp = predictions.LogSoftmax(-1);
        return -logp.Gather(-1, targets.To(DType.Int64).Unsqueeze(-1)).Mean().Item<double>();
    }

    private static double MeanKl(Tensor cleanLogProbs, Tensor otherLogits)
    {
        var q = otherLogits.To(DType.Float64).LogSoftmax(-1);                                  // [batch, pos, vocab]
        return (cleanLogProbs.Exp() * (cleanLogProbs - q)).Sum(-1).Mean().Item<double>();
    }
}
