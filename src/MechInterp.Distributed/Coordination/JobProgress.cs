namespace MechInterp.Distributed.Coordination;

/// <summary>Progress of a distributed job, as <see cref="IProgress{T}"/> reports it: <paramref name="Done"/> of
/// <paramref name="Units"/> units recorded.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Done">Units recorded.</param>
/// <param name="Units">Units of the job (0 while it is being planned).</param>
/// <param name="InFlight">Units being computed now.</param>
/// <param name="Reassigned">Units handed out again after their worker went away.</param>
public readonly record struct JobProgress(string JobId, int Done, int Units, int InFlight, int Reassigned);
