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
        int written;
        using (Tensor.Scope())
        {
            var all = harvest.Tokens.ToTensor(model.Device);
            var tokens = all.Narrow(0, lease.First, lease.Count);
            cancellationToken.ThrowIfCancellationRequested();
            written = ActivationShards.Write(new ActivationStore(model, tokens, harvest.Hooks, harvest.StoreOptions()), scratch);
        }
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); // an earlier, abandoned run of this unit
        Directory.Move(scratch, folder);
        return new UnitResult([written]);
    }
}
