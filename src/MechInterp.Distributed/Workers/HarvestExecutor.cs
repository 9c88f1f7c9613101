using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Jobs;
using MechInterp.Saes;

namespace MechInterp.Distributed.Workers;

/// <summary>Runs a harvest unit: <see cref="ActivationStore"/> over the unit's sequences, its batches written by
/// <see cref="ActivationShards.Write"/> into a scratch folder that is renamed to the unit's folder when complete, so
/// a worker that dies mid-unit leaves no half-written unit folder and a second run of the unit writes the same files.</summary>
internal sealed class HarvestExecutor : IUnitExecutor
{
    public bool Handles(DistributedJob job) => job is HarvestJob;

    public UnitResult Run(ModelReplica replica, DistributedJob job, UnitLease lease, CancellationToken cancellationToken)
    {
        var harvest = (HarvestJob)job;
        var model = replica.Model(harvest);
        string folder = harvest.UnitFolder(lease.UnitId);
        string scratch = $"{folder}.{Guid.NewGuid():N}.partial";
        var ids = harvest.Tokens.Ids.AsSpan((int)(lease.First * harvest.Tokens.Positions), lease.Count * harvest.Tokens.Positions).ToArray();
        var tokens = new TokenBatch(ids, lease.Count, harvest.Tokens.Positions).ToTensor(model.Device);
        cancellationToken.ThrowIfCancellationRequested();
        // No tensor scope around the store: ActivationShards.Write frees each batch once it is on disk.
        int written = ActivationShards.Write(new ActivationStore(model, tokens, harvest.Hooks, harvest.StoreOptions()), scratch);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); // an earlier, abandoned run of this unit
        Directory.Move(scratch, folder);
        return new UnitResult([written]);
    }
}
