namespace MechInterp.Distributed.Coordination;

/// <summary>A unit handed to one worker: job, unit id and the range of the job's items it covers. Unit id −1 is the
/// plan of a job whose units are not known before a worker has seen the model (<see cref="PlanUnit"/>).</summary>
/// <param name="JobId">The job.</param>
/// <param name="UnitId">The unit (0, 1, ...), or −1 for the plan.</param>
/// <param name="First">First item (cell, sequence) of the unit.</param>
/// <param name="Count">Items in the unit.</param>
[GenerateSerializer, Immutable]
internal sealed record UnitLease([property: Id(0)] string JobId, [property: Id(1)] int UnitId, [property: Id(2)] long First, [property: Id(3)] int Count)
{
    public const int PlanUnit = -1;

    public bool IsPlan => UnitId == PlanUnit;
}

/// <summary>What a worker sends back for a unit: its numbers (one metric per cell of a sweep unit; the counts a harvest
/// unit wrote), and for a plan the shape of the whole result.</summary>
/// <param name="Values">The unit's numbers, in item order.</param>
/// <param name="Shape">The job's result shape (plans only).</param>
[GenerateSerializer, Immutable]
internal sealed record UnitResult([property: Id(0)] float[] Values, [property: Id(1)] long[]? Shape = null);
