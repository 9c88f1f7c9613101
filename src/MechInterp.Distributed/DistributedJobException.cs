using MechInterp.Distributed.Coordination;

namespace MechInterp.Distributed;

/// <summary>A distributed job failed: a unit threw on a worker (the message says which unit, where and why).</summary>
public sealed class DistributedJobException : Exception
{
    /// <summary>Creates the exception for a failed job.</summary>
    /// <param name="status">The job's status when it failed.</param>
    public DistributedJobException(JobStatus status)
        : base($"distributed job {status?.JobId} failed: {status?.Error}") => Status = status!;

    /// <summary>The job's status when it failed.</summary>
    public JobStatus Status { get; }
}
