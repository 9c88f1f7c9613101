namespace MechInterp.Distributed;

/// <summary>How a client submits a job and follows it (<see cref="DistributedJobs"/>).</summary>
public sealed record DistributedRunOptions
{
    /// <summary>Default options.</summary>
    public static DistributedRunOptions Default { get; } = new();

    /// <summary>The coordinator silo's name (<see cref="Coordination.CoordinatorOptions.Name"/>). Default "coordinator".</summary>
    public string Coordinator { get; init; } = "coordinator";

    /// <summary>How often the client asks the coordinator where the job stands (and reports progress). Default 50 ms.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The job's id; null = a new GUID. Submitting the same job again under its id resumes following it.</summary>
    public string? JobId { get; init; }

    /// <summary>Keep the job's results on the coordinator after they are fetched (default: forget them).</summary>
    public bool KeepOnCoordinator { get; init; }
}
