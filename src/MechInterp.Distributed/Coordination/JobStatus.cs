namespace MechInterp.Distributed.Coordination;

/// <summary>A snapshot of a job on the coordinator.</summary>
[GenerateSerializer, Immutable]
public sealed record JobStatus
{
    /// <summary>The job.</summary>
    [Id(0)] public required string JobId { get; init; }

    /// <summary>Where it stands.</summary>
    [Id(1)] public required JobState State { get; init; }

    /// <summary>Units of the job (0 while planning).</summary>
    [Id(2)] public int Units { get; init; }

    /// <summary>Units whose result is recorded.</summary>
    [Id(3)] public int Done { get; init; }

    /// <summary>Units handed out and not yet recorded.</summary>
    [Id(4)] public int InFlight { get; init; }

    /// <summary>Times a unit was taken back from a worker (its silo died, it released it on shutdown, or its lease
    /// expired) and handed out again.</summary>
    [Id(5)] public int Reassigned { get; init; }

    /// <summary>Results that arrived for a unit already recorded and were dropped (a worker declared dead that finished
    /// anyway, an expired lease): each unit is recorded once, by the first result that arrives.</summary>
    [Id(6)] public int DuplicatesIgnored { get; init; }

    /// <summary>Units recorded per worker silo (by silo name).</summary>
    [Id(7)] public IReadOnlyDictionary<string, int> UnitsBySilo { get; init; } = new Dictionary<string, int>();

    /// <summary>Why the job failed (null unless <see cref="State"/> is <see cref="JobState.Failed"/>).</summary>
    [Id(8)] public string? Error { get; init; }

    /// <summary>Times a result was accepted for each unit (index = unit id): all 1 for a completed job.</summary>
    [Id(9)] public int[] RecordsPerUnit { get; init; } = [];
}
