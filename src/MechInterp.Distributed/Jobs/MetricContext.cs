namespace MechInterp.Distributed.Jobs;

/// <summary>What a worker knows when it builds a metric: its model replica, the base tokens of the sweep and the
/// numbers the job's <see cref="MetricSpec"/> carries.</summary>
/// <param name="Model">The worker's model replica.</param>
/// <param name="BaseTokens">The base run's token ids [batch, pos] on the replica's device.</param>
/// <param name="Arguments">The <see cref="MetricSpec.Arguments"/>.</param>
public sealed record MetricContext(IHookedModel Model, Tensor BaseTokens, IReadOnlyList<double> Arguments);
