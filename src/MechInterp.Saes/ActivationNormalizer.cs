namespace MechInterp.Saes;

/// <summary>
/// The per-row input normalisation of an SAE (<see cref="ActivationNormalization"/>) and the state that
/// <see cref="Sae.Encode"/> leaves for <see cref="Sae.Decode"/>, as SAELens keeps it: the constant-norm coefficient is
/// consumed by one decode; the layer-norm statistics stay until the next encode.
/// </summary>
internal sealed class ActivationNormalizer(ActivationNormalization mode, int dIn)
{
    private const double LayerNormEps = 1e-5;
    private Tensor? _coefficient; // [..., 1]
    private Tensor? _mean;        // [..., 1]
    private Tensor? _std;         // [..., 1]

    public ActivationNormalization Mode { get; } = mode;

    /// <summary>Normalises x [..., d_in] and remembers what <see cref="Out"/> needs.</summary>
    public Tensor In(Tensor x)
    {
        switch (Mode)
        {
            case ActivationNormalization.ConstantNormRescale:
                Replace(ref _coefficient, Math.Sqrt(dIn) / x.Norm(2, -1, keepDim: true)); // [..., 1]
                return x * _coefficient!;
            case ActivationNormalization.LayerNorm:
                var mu = x.Mean(-1, keepDim: true);                                   // [..., 1]
                var centred = x - mu;                                                  // [..., d_in]
                var std = centred.Std(-1, keepDim: true, unbiased: true);             // [..., 1]
                Replace(ref _mean, mu);
                Replace(ref _std, std);
                return centred / (std + LayerNormEps);
            default:
                return x;
        }
    }

    /// <summary>Undoes <see cref="In"/> on a reconstruction y [..., d_in].</summary>
    /// <exception cref="InvalidOperationException">constant_norm_rescale without a preceding encode (its coefficient is used once).</exception>
    public Tensor Out(Tensor y)
    {
        switch (Mode)
        {
            case ActivationNormalization.ConstantNormRescale:
                var c = _coefficient ?? throw new InvalidOperationException(
                    "constant_norm_rescale: Decode needs the norm coefficient of a preceding Encode, and each Encode's coefficient serves one Decode (as in SAELens): call Encode again, or use Forward");
                _coefficient = null;
                var result = y / c;
                c.Dispose();
                return result;
            case ActivationNormalization.LayerNorm:
                if (_mean is null || _std is null)
                    throw new InvalidOperationException("layer_norm: Decode needs the mean and std of a preceding Encode: call Encode first, or use Forward");
                return y * _std + _mean;
            default:
                return y;
        }
    }

    private static void Replace(ref Tensor? slot, Tensor value)
    {
        value.DetachFromScopes();
        slot = value;
    }
}
