namespace MechInterp.Distributed.Coordination;

/// <summary>
/// The coordinator: keyed by the coordinator silo's name (and placed there), it holds every submitted job, hands its
/// units out to workers that ask, takes back the units of silos that die and records each unit's result once.
/// </summary>
internal interface IJobCoordinatorGrain : IGrainWithStringKey
{
    /// <summary>Adds a job (again with the same id and job: nothing happens).</summary>
    Task Submit(string jobId, Jobs.DistributedJob job);

    /// <summary>The next unit for <paramref name="worker"/>, or null when no job has one pending.</summary>
    Task<UnitLease?> Lease(WorkerId worker);

    /// <summary>A job's description (workers fetch it once per job).</summary>
    Task<Jobs.DistributedJob> GetJob(string jobId);

    /// <summary>Records a unit's result; false when the unit was already recorded (the result is then dropped).</summary>
    Task<bool> Record(WorkerId worker, UnitLease lease, UnitResult result);

    /// <summary>A unit threw on a worker: the job fails with <paramref name="error"/> (the same input fails everywhere).</summary>
    Task Fail(WorkerId worker, UnitLease lease, string error);

    /// <summary>A worker is shutting down: its units go back to the queue.</summary>
    Task Release(WorkerId worker);

    /// <summary>Where a job stands.</summary>
    Task<JobStatus> Status(string jobId);

    /// <summary>A completed job's result shape and the values of each unit, in unit order.</summary>
    Task<(long[]? Shape, float[][] Units)> Outcome(string jobId);

    /// <summary>Drops a job and its results.</summary>
    Task Forget(string jobId);
}
