using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Jobs;

namespace MechInterp.Distributed.Workers;

/// <summary>Runs the units of one kind of job on a model replica.</summary>
internal interface IUnitExecutor
{
    /// <summary>True for the jobs this executor runs.</summary>
    bool Handles(DistributedJob job);

    /// <summary>Runs one unit (or the job's plan) and returns what goes back to the coordinator.</summary>
    UnitResult Run(ModelReplica replica, DistributedJob job, UnitLease lease, CancellationToken cancellationToken);
}
