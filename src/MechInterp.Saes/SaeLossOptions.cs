namespace MechInterp.Saes;

/// <summary>How a JumpReLU SAE's L0 is penalised during training.</summary>
public enum JumpReluSparsityLoss
{
    /// <summary>l0 · mean(#{h &gt; θ}) with a straight-through gradient to θ (rectangle kernel of the bandwidth).</summary>
    Step,
    /// <summary>l0 · mean(Σ tanh(scale · f · ‖W_dec row‖)).</summary>
    Tanh,
}

/// <summary>
/// Coefficients of one training step's losses (SAELens's training config fields and the coefficients it passes after
/// warm-up). Each architecture reads the ones it uses: standard and gated <see cref="SparsityCoefficient"/> (l1) and
/// <see cref="LpNorm"/>; JumpReLU <see cref="SparsityCoefficient"/> (l0) and the JumpReLU fields; TopK/BatchTopK
/// <see cref="AuxLossCoefficient"/>.
/// </summary>
public sealed record SaeLossOptions
{
    /// <summary>The L1 coefficient (standard, gated) or L0 coefficient (JumpReLU), after any warm-up.</summary>
    public double SparsityCoefficient { get; init; } = 1.0;

    /// <summary>The p of the standard SAE's sparsity penalty ‖f · ‖W_dec row‖‖_p.</summary>
    public double LpNorm { get; init; } = 1.0;

    /// <summary>TopK / BatchTopK: weight of the auxiliary loss that lets dead latents reconstruct the residual.</summary>
    public double AuxLossCoefficient { get; init; } = 1.0;

    /// <summary>JumpReLU: how L0 is penalised.</summary>
    public JumpReluSparsityLoss JumpReluSparsityLoss { get; init; } = JumpReluSparsityLoss.Step;

    /// <summary>JumpReLU: width of the straight-through estimator's rectangle kernel.</summary>
    public double JumpReluBandwidth { get; init; } = 0.05;

    /// <summary>JumpReLU: weight of the pre-activation loss that pushes dead latents' pre-activations up to θ
    /// (null: no <c>pre_act_loss</c> component).</summary>
    public double? PreActLossCoefficient { get; init; }

    /// <summary>JumpReLU tanh mode: the scale inside tanh.</summary>
    public double JumpReluTanhScale { get; init; } = 4.0;
}
