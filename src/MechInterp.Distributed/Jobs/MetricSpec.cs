using MechInterp.Patching;

namespace MechInterp.Distributed.Jobs;

/// <summary>
/// A patching metric as data. A metric in the single-process API is a C# delegate (logits → one number), which cannot
/// cross the wire; a job carries this description instead and each worker turns it back into the same delegate
/// (<see cref="Resolve"/>): the ready-made <see cref="PatchingMetrics"/> from their arguments, or a metric the worker
/// has registered under a name (<see cref="MetricRegistry"/>), given the numbers in <see cref="Arguments"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record MetricSpec
{
    private MetricSpec(MetricKind kind, long[] tokens, long[] wrongTokens, int position, string? name, double[] arguments)
    {
        Kind = kind;
        Tokens = tokens;
        WrongTokens = wrongTokens;
        Position = position;
        Name = name;
        Arguments = arguments;
    }

    /// <summary>Which metric.</summary>
    [Id(0)] public MetricKind Kind { get; }

    /// <summary>The right answer (logit difference) or the token (probability) per prompt.</summary>
    [Id(1)] public long[] Tokens { get; }

    /// <summary>The wrong answer per prompt (logit difference only).</summary>
    [Id(2)] public long[] WrongTokens { get; }

    /// <summary>The position read: 0, 1, ... from the start, −1, −2, ... from the end (−1 = the last, as <c>^1</c>).</summary>
    [Id(3)] public int Position { get; }

    /// <summary>The registered name (<see cref="MetricKind.Named"/> only).</summary>
    [Id(4)] public string? Name { get; }

    /// <summary>Numbers handed to a named metric's factory.</summary>
    [Id(5)] public double[] Arguments { get; }

    /// <summary>Mean over prompts of logit[answer] − logit[wrong] at <paramref name="position"/>
    /// (<see cref="PatchingMetrics.LogitDifference"/>).</summary>
    /// <param name="answerTokens">The right answer per prompt.</param>
    /// <param name="wrongTokens">The wrong answer per prompt.</param>
    /// <param name="position">Position read: −1 (the last) by default; negative counts from the end.</param>
    /// <exception cref="ArgumentException">The two lists are empty or of different lengths.</exception>
    public static MetricSpec LogitDifference(long[] answerTokens, long[] wrongTokens, int position = -1)
    {
        ArgumentNullException.ThrowIfNull(answerTokens);
        ArgumentNullException.ThrowIfNull(wrongTokens);
        if (answerTokens.Length == 0 || answerTokens.Length != wrongTokens.Length)
            throw new ArgumentException($"one right and one wrong answer per prompt: got {answerTokens.Length} and {wrongTokens.Length}", nameof(wrongTokens));
        return new MetricSpec(MetricKind.LogitDifference, [.. answerTokens], [.. wrongTokens], position, null, []);
    }

    /// <summary>Mean over prompts of the probability of <paramref name="tokens"/>[b] at <paramref name="position"/>
    /// (<see cref="PatchingMetrics.TokenProbability"/>).</summary>
    /// <param name="tokens">One token id per prompt.</param>
    /// <param name="position">Position read: −1 (the last) by default.</param>
    /// <exception cref="ArgumentException">No tokens.</exception>
    public static MetricSpec TokenProbability(long[] tokens, int position = -1)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Length == 0) throw new ArgumentException("give one token id per prompt", nameof(tokens));
        return new MetricSpec(MetricKind.TokenProbability, [.. tokens], [], position, null, []);
    }

    /// <summary>Mean next-token loss of the base run's own tokens (<see cref="PatchingMetrics.Loss"/>).</summary>
    public static MetricSpec Loss() => new(MetricKind.Loss, [], [], -1, null, []);

    /// <summary>A metric each worker has registered as <paramref name="name"/> in its <see cref="MetricRegistry"/>.</summary>
    /// <param name="name">The registered name.</param>
    /// <param name="arguments">Numbers passed to the registered factory (token ids, positions, weights ...).</param>
    public static MetricSpec Named(string name, params double[] arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(arguments);
        return new MetricSpec(MetricKind.Named, [], [], -1, name, [.. arguments]);
    }

    /// <summary>The delegate this describes, as a worker builds it.</summary>
    /// <param name="context">The model, the base tokens and the numbers of the metric.</param>
    /// <param name="registry">Named metrics of this worker (required for <see cref="MetricKind.Named"/>).</param>
    /// <exception cref="KeyNotFoundException">A named metric the registry does not hold.</exception>
    public Func<Tensor, Tensor> Resolve(MetricContext context, MetricRegistry? registry)
    {
        ArgumentNullException.ThrowIfNull(context);
        var at = Position < 0 ? ^(-Position) : (Index)Position;
        return Kind switch
        {
            MetricKind.LogitDifference => PatchingMetrics.LogitDifference(Tokens, WrongTokens, at),
            MetricKind.TokenProbability => PatchingMetrics.TokenProbability(Tokens, at),
            MetricKind.Loss => PatchingMetrics.Loss(context.BaseTokens),
            MetricKind.Named => (registry ?? throw new KeyNotFoundException($"metric '{Name}' is named but this worker has no MetricRegistry: register it with AddMechInterpWorker(o => o.Metrics.Register(...))"))
                .Resolve(Name!, context),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown metric kind: use the factories of MetricSpec"),
        };
    }
}
