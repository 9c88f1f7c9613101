namespace MechInterp.Saes;

/// <summary>
/// A transcoder with a linear skip path (SAELens <c>skip_transcoder</c>; Paulo et al. 2025):
/// Forward(x) = Decode(Encode(x)) + x @ W_skip.T on the raw x, W_skip [d_out, d_in]. <see cref="Sae.Decode"/> alone
/// has no skip term.
/// </summary>
public class SkipTranscoder : Transcoder
{
    /// <summary>cfg.json <c>skip_transcoder</c>: the transcoder's weights + W_skip [d_out, d_in].</summary>
    public static new SaeArchitecture Definition { get; } = new("skip_transcoder", Specs, (c, w) => new SkipTranscoder(c, w));

    internal static IReadOnlyList<SaeWeightSpec> Specs(SaeConfig c) => SaeRegistry.LinearWeights(c, new SaeWeightSpec("W_skip", [c.OutputWidth, c.DIn]));

    /// <summary>Builds the skip transcoder from a config (with d_out) and its five weights.</summary>
    public SkipTranscoder(SaeConfig config, IReadOnlyDictionary<string, Tensor> weights) : base(config, Specs(config), weights) { }

    /// <summary>The skip matrix [d_out, d_in].</summary>
    public Tensor WSkip => W("W_skip");

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x, bool useErrorTerm)
    {
        var raw = x.To(ComputeDType);
        return base.Forward(x, useErrorTerm) + Linear(raw, WSkip.T, null); // [..., d_out]
    }
}
