namespace MechInterp.Saes;

/// <summary>
/// Ground-truth data for dictionary learning (as SynthSAEBench and Sharkey et al. 2022 use): <see cref="FeatureCount"/>
/// random unit feature directions in <see cref="Dimension"/> dimensions; each sample activates each feature
/// independently with probability <see cref="MeanActive"/>/<see cref="FeatureCount"/>, with a magnitude uniform in
/// [<see cref="MinMagnitude"/>, <see cref="MaxMagnitude"/>], and is the sum of the active features times their
/// magnitudes. Batch i depends only on the seed and i, so a resumed run sees the same data.
/// </summary>
public sealed class SyntheticSparseFeatures
{
    private readonly ulong _seed;

    /// <summary>Draws the feature directions from <paramref name="seed"/>.</summary>
    public SyntheticSparseFeatures(int featureCount, int dimension, double meanActive, ulong seed, double minMagnitude = 0.5, double maxMagnitude = 1.5)
    {
        if (featureCount < 1 || dimension < 1) throw new ArgumentOutOfRangeException(nameof(featureCount), "feature count and dimension must be positive");
        if (!(meanActive > 0) || meanActive > featureCount) throw new ArgumentOutOfRangeException(nameof(meanActive), meanActive, $"the mean number of active features must be in (0, {featureCount}]");
        FeatureCount = featureCount;
        Dimension = dimension;
        MeanActive = meanActive;
        MinMagnitude = minMagnitude;
        MaxMagnitude = maxMagnitude;
        _seed = seed;
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var f = Tensor.Randn([featureCount, dimension], new Generator(seed));
        Features = (f / f.Norm(2, 1, keepDim: true)).Contiguous().DetachFromScopes(); // [n_features, d]
    }

    /// <summary>Number of true features.</summary>
    public int FeatureCount { get; }
    /// <summary>Dimension of the samples.</summary>
    public int Dimension { get; }
    /// <summary>Expected active features per sample.</summary>
    public double MeanActive { get; }
    /// <summary>Smallest magnitude of an active feature.</summary>
    public double MinMagnitude { get; }
    /// <summary>Largest magnitude of an active feature.</summary>
    public double MaxMagnitude { get; }

    /// <summary>The true feature directions [n_features, d] (unit rows), on the managed CPU.</summary>
    public Tensor Features { get; }

    /// <summary>Batch number <paramref name="index"/>: samples [rows, d] on <paramref name="device"/>.</summary>
    public Tensor Batch(long index, int rows, Device? device = null)
    {
        using var noGrad = GradMode.NoGrad();
        var rng = new Generator(_seed ^ (0x9E3779B97F4A7C15UL * (ulong)(index + 1)));
        double p = MeanActive / FeatureCount;
        var coefficients = new float[(long)rows * FeatureCount];
        for (long i = 0; i < coefficients.LongLength; i++)
            if (rng.NextDouble() < p) coefficients[i] = (float)(MinMagnitude + (MaxMagnitude - MinMagnitude) * rng.NextDouble());
        using var scope = Tensor.Scope();
        var c = Tensor.FromArray(coefficients, rows, FeatureCount);       // [rows, n_features]
        return c.MatMul(Features).To(device ?? Device.Cpu).MoveToOuterScope(); // [rows, d]
    }

    /// <summary>Batches 0, 1, 2, ... from <paramref name="start"/> on.</summary>
    public IEnumerable<Tensor> Batches(int rows, long start = 0, Device? device = null)
    {
        for (long i = start; ; i++) yield return Batch(i, rows, device);
    }
}
