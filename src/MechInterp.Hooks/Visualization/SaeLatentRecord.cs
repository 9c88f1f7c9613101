namespace MechInterp.Visualization;

/// <summary>
/// What an SAE latent dashboard shows, as plain data (no SAE type needed): the latent's index, its max-activating
/// contexts with per-token activations, a histogram of its non-zero activations, and the tokens whose logits its
/// decoder direction raises and lowers the most.
/// </summary>
/// <param name="LatentIndex">The latent's index in the SAE.</param>
/// <param name="Contexts">Max-activating contexts, strongest first.</param>
/// <param name="Histogram">Distribution of the latent's activations (usually the non-zero ones), or null.</param>
/// <param name="TopLogits">Tokens whose logits the latent raises the most (largest first), or null.</param>
/// <param name="BottomLogits">Tokens whose logits it lowers the most (most negative first), or null.</param>
/// <param name="FiringDensity">Fraction of tokens on which the latent is non-zero, or null.</param>
/// <param name="HookName">The hook the SAE reads, e.g. "blocks.0.hook_resid_post", or null.</param>
public sealed record SaeLatentRecord(int LatentIndex, IReadOnlyList<ActivatingContext> Contexts, ActivationHistogram? Histogram = null,
    IReadOnlyList<LogitEffect>? TopLogits = null, IReadOnlyList<LogitEffect>? BottomLogits = null, double? FiringDensity = null,
    string? HookName = null);

/// <summary>One context where a latent (or neuron) fires: its tokens and the activation at each.</summary>
public sealed record ActivatingContext
{
    /// <summary>A context; the counts must match.</summary>
    /// <exception cref="ArgumentException">The token and activation counts differ.</exception>
    public ActivatingContext(IReadOnlyList<string> tokens, IReadOnlyList<double> activations)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(activations);
        if (tokens.Count != activations.Count)
            throw new ArgumentException($"the context has {tokens.Count} tokens but {activations.Count} activations: pass one activation per token", nameof(activations));
        Tokens = tokens;
        Activations = activations;
    }

    /// <summary>The tokens of the context.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The activation at each token.</summary>
    public IReadOnlyList<double> Activations { get; }

    /// <summary>The largest activation in the context (NaN when it is empty).</summary>
    public double MaxActivation => Activations.Count == 0 ? double.NaN : Activations.Max();
}

/// <summary>A token and the effect of a direction on its logit (e.g. W_dec[latent] @ W_U[:, token]).</summary>
/// <param name="Token">The token string.</param>
/// <param name="Effect">The logit effect.</param>
public readonly record struct LogitEffect(string Token, double Effect);

/// <summary>A histogram: <c>Counts[i]</c> values fell in [<c>BinEdges[i]</c>, <c>BinEdges[i + 1]</c>) (the last bin
/// includes its upper edge).</summary>
public sealed record ActivationHistogram
{
    /// <summary>A histogram from its edges (ascending, one more than the counts) and counts.</summary>
    /// <exception cref="ArgumentException">The edges are not ascending or not one more than the counts.</exception>
    public ActivationHistogram(IReadOnlyList<double> binEdges, IReadOnlyList<long> counts)
    {
        ArgumentNullException.ThrowIfNull(binEdges);
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count == 0 || binEdges.Count != counts.Count + 1)
            throw new ArgumentException($"a histogram needs at least one bin and one more edge than counts; got {binEdges.Count} edges and {counts.Count} counts", nameof(binEdges));
        for (int i = 0; i < counts.Count; i++)
        {
            if (!(binEdges[i + 1] > binEdges[i]))
                throw new ArgumentException($"bin edges must be finite and strictly ascending; edge {i + 1} ({binEdges[i + 1]}) is not above edge {i} ({binEdges[i]})", nameof(binEdges));
            if (counts[i] < 0) throw new ArgumentException($"bin {i} has a negative count ({counts[i]})", nameof(counts));
        }
        BinEdges = binEdges;
        Counts = counts;
    }

    /// <summary>The bin edges, ascending.</summary>
    public IReadOnlyList<double> BinEdges { get; }

    /// <summary>The count in each bin.</summary>
    public IReadOnlyList<long> Counts { get; }

    /// <summary>Bins <paramref name="samples"/> into <paramref name="bins"/> equal-width bins from their min to max
    /// (non-finite samples are skipped).</summary>
    /// <exception cref="ArgumentException">There are no finite samples or fewer than one bin.</exception>
    public static ActivationHistogram FromSamples(IEnumerable<double> samples, int bins = 40)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "a histogram needs at least one bin");
        var values = samples.Where(double.IsFinite).ToArray();
        if (values.Length == 0) throw new ArgumentException("there are no finite samples to bin: the latent never fired (pass its activations where it is non-zero)", nameof(samples));
        double lo = values.Min(), hi = values.Max();
        if (hi <= lo) { lo -= 0.5; hi += 0.5; }
        var edges = Enumerable.Range(0, bins + 1).Select(i => lo + (hi - lo) * i / bins).ToArray();
        edges[bins] = hi;
        var counts = new long[bins];
        foreach (double v in values) counts[Math.Min(bins - 1, (int)((v - lo) / (hi - lo) * bins))]++;
        return new ActivationHistogram(edges, counts);
    }
}
