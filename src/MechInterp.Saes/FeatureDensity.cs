namespace MechInterp.Saes;

/// <summary>
/// Per-latent firing density over evaluation tokens: density_i = #{tokens with f_i ≠ 0} / #tokens. Dead latents never
/// fire; dense latents fire on more than a threshold fraction (SAEBench reports &gt; 1% and &gt; 10%). Add batches with
/// <see cref="Add"/>.
/// </summary>
public sealed class FeatureDensity
{
    private readonly long[] _fires;

    /// <summary>Counts for <paramref name="dSae"/> latents.</summary>
    public FeatureDensity(int dSae) => _fires = new long[dSae];

    /// <summary>Tokens counted.</summary>
    public long Tokens { get; private set; }

    /// <summary>Adds latents [..., d_sae].</summary>
    public void Add(Tensor featureActs)
    {
        ArgumentNullException.ThrowIfNull(featureActs);
        if (featureActs.Shape[^1] != _fires.Length) throw new ArgumentException($"latents have width {featureActs.Shape[^1]}, this counter {_fires.Length}", nameof(featureActs));
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var flat = featureActs.Reshape(-1, _fires.Length);
        var counts = (flat != 0).To(DType.Int64).Sum(0).To(Device.Cpu).ToArray<long>();
        for (int i = 0; i < counts.Length; i++) _fires[i] += counts[i];
        Tokens += flat.Shape[0];
    }

    /// <summary>Firing density of each latent.</summary>
    public double[] Densities() => _fires.Select(c => Tokens == 0 ? 0 : c / (double)Tokens).ToArray();

    /// <summary>Fraction of latents that never fired.</summary>
    public double DeadFraction => _fires.Count(c => c == 0) / (double)_fires.Length;

    /// <summary>Fraction of latents firing on more than <paramref name="threshold"/> of tokens.</summary>
    public double DenseFraction(double threshold) => Densities().Count(d => d > threshold) / (double)_fires.Length;

    /// <summary>Histogram of log10(density) over latents that fired: <paramref name="bins"/> equal bins over
    /// [<paramref name="minLog10"/>, 0]; densities below the range go to the first bin. Returns (lower edges, counts).</summary>
    public (double[] LowerEdges, int[] Counts) Log10Histogram(int bins = 20, double minLog10 = -7)
    {
        if (bins < 1 || !(minLog10 < 0)) throw new ArgumentOutOfRangeException(nameof(bins), "bins must be positive and minLog10 negative");
        var edges = Enumerable.Range(0, bins).Select(i => minLog10 + i * (-minLog10) / bins).ToArray();
        var counts = new int[bins];
        foreach (var d in Densities().Where(d => d > 0))
        {
            int bin = (int)Math.Floor((Math.Log10(d) - minLog10) / (-minLog10) * bins);
            counts[Math.Clamp(bin, 0, bins - 1)]++;
        }
        return (edges, counts);
    }
}
