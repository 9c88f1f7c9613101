using MechInterp.Patching;

namespace MechInterp;

/// <summary>What an ablated activation is replaced by: zero, a mean over a dataset (pooled over positions or per
/// position), or another prompt's activation (resampling).</summary>
public abstract record AblationValue
{
    private protected AblationValue() { }

    /// <summary>Zero ablation: the activation set to 0 (destroys the component's output, and its bias, outright; it moves
    /// later layers off the distribution they saw in training, which mean and resample ablation avoid).</summary>
    public static AblationValue Zero { get; } = new ZeroValue();

    /// <summary>Mean ablation: the mean over prompts and positions (<paramref name="perPosition"/> false: one vector
    /// everywhere) or over prompts only (true: one vector per position; the dataset's prompts must have the base run's
    /// length). <paramref name="dataset"/> null means the ablated run itself.</summary>
    /// <param name="dataset">Activations of a dataset of prompts (<c>model.RunWithCache(datasetTokens)</c>), or null.</param>
    /// <param name="perPosition">Keep positions apart.</param>
    public static AblationValue Mean(ActivationCache? dataset = null, bool perPosition = false) => new MeanValue(dataset, perPosition);

    /// <summary>Resample ablation: the activation of other prompts at the same site (row b of <paramref name="other"/>
    /// replaces row b of the base run; a cache of one prompt replaces every row).</summary>
    /// <param name="other">Activations of the other prompts, same length as the base run.</param>
    public static AblationValue Resample(ActivationCache other) => new ResampleValue(other ?? throw new ArgumentNullException(nameof(other)));

    /// <summary>The replacement at <paramref name="hook"/>, broadcastable to the activation; <paramref name="ownRun"/>
    /// gives the ablated run's own cache when needed.</summary>
    internal abstract Tensor For(string hook, Func<ActivationCache> ownRun, Device device);

    /// <summary>True when <see cref="For"/> reads the ablated run's own activations.</summary>
    internal virtual bool NeedsOwnRun => false;

    private sealed record ZeroValue : AblationValue
    {
        internal override Tensor For(string hook, Func<ActivationCache> ownRun, Device device) => Tensor.Zeros([], device: device);
    }

    private sealed record MeanValue(ActivationCache? Dataset, bool PerPosition) : AblationValue
    {
        internal override bool NeedsOwnRun => Dataset is null;

        internal override Tensor For(string hook, Func<ActivationCache> ownRun, Device device)
        {
            var x = (Dataset ?? ownRun())[hook]; // [batch, pos, ...] or [batch, head, dest, src]
            // Positions are dim 1, or dims 2 and 3 of patterns and scores.
            int[] dims = PerPosition || x.Rank < 2 ? [0] : PatchAxes.IsPatternLike(hook) ? [0, 2, 3] : [0, 1];
            return x.Mean(dims, keepDim: true).To(device);
        }
    }

    private sealed record ResampleValue(ActivationCache Other) : AblationValue
    {
        internal override Tensor For(string hook, Func<ActivationCache> ownRun, Device device) => Other[hook].To(device);
    }
}
