namespace MechInterp.Distributed.Coordination;

/// <summary>Where a distributed job stands.</summary>
[GenerateSerializer]
public enum JobState
{
    /// <summary>Waiting for a worker to plan it (a sweep's cells are counted on a worker that has the model).</summary>
    Planning,
    /// <summary>Units are being handed out.</summary>
    Running,
    /// <summary>Every unit is recorded.</summary>
    Completed,
    /// <summary>A unit failed on a worker; <see cref="JobStatus.Error"/> says why.</summary>
    Failed,
}
