using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Jobs;
using MechInterp.Patching;

namespace MechInterp.Distributed.Workers;

/// <summary>
/// Runs a sweep's units: once per replica and job, the source run (for its cache), the cells exactly as
/// <see cref="ActivationPatching.Generic"/> builds them and the metric; then for each unit its range of cells through
/// <see cref="ActivationPatching.Run"/>, the engine under every single-process sweep.
/// </summary>
internal sealed class PatchSweepExecutor(MetricRegistry metrics) : IUnitExecutor
{
    private sealed record SweepState(IHookedModel Model, Tensor BaseTokens, List<PatchCell> Cells, long[] Shape,
        Func<Tensor, Tensor> Metric, PatchingOptions Options);

    public bool Handles(DistributedJob job) => job is PatchSweepJob;

    public UnitResult Run(ModelReplica replica, DistributedJob job, UnitLease lease, CancellationToken cancellationToken)
    {
        var sweep = (PatchSweepJob)job;
        var state = replica.JobState(lease.JobId, () => Prepare(replica, sweep));
        if (lease.IsPlan) return new UnitResult([], state.Shape);
        if (lease.First < 0 || lease.First + lease.Count > state.Cells.Count)
            throw new ArgumentOutOfRangeException(nameof(lease), $"unit {lease.UnitId} covers cells {lease.First}..{lease.First + lease.Count - 1} but the sweep has {state.Cells.Count}");
        cancellationToken.ThrowIfCancellationRequested();
        using var scope = Tensor.Scope();
        var cells = state.Cells.GetRange((int)lease.First, lease.Count);
        return new UnitResult(ActivationPatching.Run(state.Model, state.BaseTokens, cells, state.Metric, state.Options).ToArray<float>());
    }

    private SweepState Prepare(ModelReplica replica, PatchSweepJob sweep)
    {
        var model = replica.Model(sweep);
        var baseTokens = sweep.BaseTokens.ToTensor(model.Device);
        var sourceTokens = sweep.SourceTokens.ToTensor(model.Device);
        // Only the patched activation of each layer is kept from the source run; it is computed as RunWithCache computes it.
        var hooks = Enumerable.Range(0, model.Config.NLayers).Select(l => ActName.Get(sweep.Activation, l)).ToHashSet(StringComparer.Ordinal);
        var (_, cache) = model.RunWithCache(sourceTokens, hooks.Contains);
        var (cells, shape) = PatchGrid.Build(model, sweep.Activation, sweep.Axes, h => cache[h].Shape, h => cache[h]);
        var metric = sweep.Metric.Resolve(new MetricContext(model, baseTokens, sweep.Metric.Arguments), metrics);
        return new SweepState(model, baseTokens, cells, shape, metric, sweep.Options());
    }
}
