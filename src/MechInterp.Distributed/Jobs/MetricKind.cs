namespace MechInterp.Distributed.Jobs;

/// <summary>Which metric a <see cref="MetricSpec"/> describes.</summary>
[GenerateSerializer]
public enum MetricKind
{
    /// <summary><see cref="Patching.PatchingMetrics.LogitDifference"/>: mean over prompts of logit[answer] − logit[wrong].</summary>
    LogitDifference,
    /// <summary><see cref="Patching.PatchingMetrics.TokenProbability"/>: mean probability of one token per prompt.</summary>
    TokenProbability,
    /// <summary><see cref="Patching.PatchingMetrics.Loss"/>: mean next-token loss of the base run's own tokens.</summary>
    Loss,
    /// <summary>A metric registered by name in each worker's <see cref="MetricRegistry"/>.</summary>
    Named,
}
