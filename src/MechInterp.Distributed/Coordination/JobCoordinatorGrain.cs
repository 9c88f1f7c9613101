using MechInterp.Distributed.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MechInterp.Distributed.Coordination;

/// <summary>
/// The coordinator grain. Its state lives in memory on the coordinator silo (<see cref="CoordinatorPlacementAttribute"/>):
/// a job outlives any worker silo, not the coordinator's. Workers pull units (<see cref="Lease"/>); a unit whose worker
/// silo cluster membership declares dead, that its worker released on shutdown, or whose lease expired goes back to the
/// head of the queue; results are keyed by unit id and the first one recorded wins, so no unit is lost or counted twice.
/// </summary>
[CoordinatorPlacement]
internal sealed class JobCoordinatorGrain(IClusterMembershipService membership, IOptions<CoordinatorOptions> options,
    ILogger<JobCoordinatorGrain> logger) : Grain, IJobCoordinatorGrain
{
    private readonly Dictionary<string, JobRecord> _jobs = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private readonly HashSet<WorkerId> _released = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var period = options.Value.MembershipCheckPeriod;
        this.RegisterGrainTimer(() => { ReclaimLost(); return Task.CompletedTask; }, period, period);
        return Task.CompletedTask;
    }

    public Task Submit(string jobId, DistributedJob job)
    {
        ArgumentException.ThrowIfNullOrEmpty(jobId);
        ArgumentNullException.ThrowIfNull(job);
        if (_jobs.TryGetValue(jobId, out var known))
            return known.Job.Equals(job) ? Task.CompletedTask
                : throw new ArgumentException($"job id '{jobId}' is already taken by another job: give each job its own id");
        job.Validate();
        var record = new JobRecord(jobId, job);
        record.Start();
        _jobs[jobId] = record;
        _order.Add(jobId);
        logger.LogInformation("job {JobId} submitted ({Kind})", jobId, job.GetType().Name);
        return Task.CompletedTask;
    }

    public Task<UnitLease?> Lease(WorkerId worker)
    {
        _released.Remove(worker);
        ReclaimLost();
        foreach (var id in _order)
            if (_jobs[id].HasPending) return Task.FromResult<UnitLease?>(_jobs[id].TakeNext(worker, DateTime.UtcNow));
        return Task.FromResult<UnitLease?>(null);
    }

    public Task<DistributedJob> GetJob(string jobId) => Task.FromResult(Find(jobId).Job);

    public Task<bool> Record(WorkerId worker, UnitLease lease, UnitResult result)
    {
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(result);
        bool recorded = Find(lease.JobId).Record(worker, lease, result);
        if (!recorded) logger.LogInformation("job {JobId} unit {Unit} from {Worker}: already recorded, dropped", lease.JobId, lease.UnitId, worker);
        return Task.FromResult(recorded);
    }

    public Task Fail(WorkerId worker, UnitLease lease, string error)
    {
        logger.LogWarning("job {JobId} unit {Unit} failed on {Worker}: {Error}", lease.JobId, lease.UnitId, worker, error);
        Find(lease.JobId).Fail(worker, lease, error);
        return Task.CompletedTask;
    }

    public Task Release(WorkerId worker)
    {
        _released.Add(worker);
        var now = DateTime.UtcNow;
        foreach (var job in _jobs.Values) job.Reclaim(w => w == worker, now, options.Value.LeaseTimeout);
        return Task.CompletedTask;
    }

    public Task<JobStatus> Status(string jobId)
    {
        ReclaimLost();
        return Task.FromResult(Find(jobId).Status());
    }

    public Task<(long[]? Shape, float[][] Units)> Outcome(string jobId)
    {
        var job = Find(jobId);
        return Task.FromResult((job.Shape, job.Results()));
    }

    public Task Forget(string jobId)
    {
        if (_jobs.Remove(jobId)) _order.Remove(jobId);
        return Task.CompletedTask;
    }

    /// <summary>Takes back the units of workers on silos that membership no longer lists as alive.</summary>
    private void ReclaimLost()
    {
        var snapshot = membership.CurrentSnapshot;
        var now = DateTime.UtcNow;
        bool Gone(WorkerId w) => _released.Contains(w) || snapshot.GetSiloStatus(w.Silo) == SiloStatus.Dead;
        foreach (var job in _jobs.Values)
        {
            int reclaimed = job.Reclaim(Gone, now, options.Value.LeaseTimeout);
            if (reclaimed > 0) logger.LogWarning("job {JobId}: {Count} unit(s) of dead, departed or late workers handed out again", job.Id, reclaimed);
        }
    }

    private JobRecord Find(string jobId) =>
        _jobs.TryGetValue(jobId, out var job) ? job
            : throw new KeyNotFoundException($"the coordinator has no job '{jobId}' (it was never submitted, was forgotten, or the coordinator silo restarted)");
}
