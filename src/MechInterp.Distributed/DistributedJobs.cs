using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Jobs;

namespace MechInterp.Distributed;

/// <summary>
/// Runs jobs on a MechInterp cluster from any Orleans client or silo (<see cref="IGrainFactory"/>): submits the job to
/// the coordinator, reports progress as units are recorded, and returns the assembled result.
/// </summary>
public static class DistributedJobs
{
    /// <summary>Runs a patching sweep on the cluster; the result equals the single-process
    /// <see cref="Patching.ActivationPatching.Generic"/> on the same model, tokens and metric.</summary>
    /// <param name="grains">A cluster client or a silo's grain factory.</param>
    /// <param name="job">The sweep.</param>
    /// <param name="progress">Receives progress as units are recorded.</param>
    /// <param name="options">Coordinator name, poll interval, job id.</param>
    /// <param name="cancellationToken">Stops following the job (the job is forgotten on the coordinator).</param>
    /// <exception cref="DistributedJobException">A unit failed on a worker.</exception>
    public static async Task<PatchSweepResult> RunSweepAsync(this IGrainFactory grains, PatchSweepJob job, IProgress<JobProgress>? progress = null,
        DistributedRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (status, shape, units) = await RunAsync(grains, job, progress, options, cancellationToken);
        return new PatchSweepResult(units.SelectMany(u => u).ToArray(), shape!, status);
    }

    /// <summary>Runs an activation harvest on the cluster: each unit's shards land in its own folder under
    /// <see cref="HarvestJob.OutputFolder"/>.</summary>
    /// <inheritdoc cref="RunSweepAsync" path="/param"/>
    /// <exception cref="DistributedJobException">A unit failed on a worker.</exception>
    public static async Task<HarvestResult> RunHarvestAsync(this IGrainFactory grains, HarvestJob job, IProgress<JobProgress>? progress = null,
        DistributedRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (status, _, units) = await RunAsync(grains, job, progress, options, cancellationToken);
        return new HarvestResult(Enumerable.Range(0, units.Length).Select(job.UnitFolder).ToArray(), units.Select(u => (int)u[0]).ToArray(), status);
    }

    private static async Task<(JobStatus Status, long[]? Shape, float[][] Units)> RunAsync(IGrainFactory grains, DistributedJob job,
        IProgress<JobProgress>? progress, DistributedRunOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(job);
        options ??= DistributedRunOptions.Default;
        job.Validate();
        string id = options.JobId ?? Guid.NewGuid().ToString("N");
        var coordinator = grains.GetGrain<IJobCoordinatorGrain>(options.Coordinator);
        await coordinator.Submit(id, job);
        JobProgress? last = null;
        try
        {
            while (true)
            {
                var status = await coordinator.Status(id).WaitAsync(cancellationToken);
                var now = new JobProgress(id, status.Done, status.Units, status.InFlight, status.Reassigned);
                if (now != last) progress?.Report(now);
                last = now;
                if (status.State == JobState.Failed) throw new DistributedJobException(status);
                if (status.State == JobState.Completed)
                {
                    var (shape, units) = await coordinator.Outcome(id);
                    if (!options.KeepOnCoordinator) await coordinator.Forget(id);
                    return (status, shape, units);
                }
                await Task.Delay(options.PollInterval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await coordinator.Forget(id);
            throw;
        }
    }
}
