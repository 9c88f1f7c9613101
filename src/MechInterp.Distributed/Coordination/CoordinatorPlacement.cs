using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace MechInterp.Distributed.Coordination;

/// <summary>Places a grain on the silo whose name is the grain's key: the coordinator lives on the coordinator silo,
/// whichever silo or client first calls it (a worker polling before the driver submits would otherwise host it).</summary>
/// <remarks>The grain is not registered in the grain directory: its place follows from its key alone. A directory entry
/// would live in the partition of some other silo, and when that silo dies the entry goes with it and the coordinator
/// (whose state is in memory) could be activated afresh, losing its jobs: the one failure this package must survive.</remarks>
[GenerateSerializer, Immutable]
internal sealed class CoordinatorPlacement : PlacementStrategy
{
    public override bool IsUsingGrainDirectory => false;
}

/// <summary>Marks a grain class for <see cref="CoordinatorPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
internal sealed class CoordinatorPlacementAttribute() : PlacementAttribute(new CoordinatorPlacement());

/// <summary>Picks the active silo named by the grain key.</summary>
internal sealed class CoordinatorPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string name = target.GrainIdentity.Key.ToString()!;
        var compatible = context.GetCompatibleSilos(target);
        var named = membership.CurrentSnapshot.Members.Values
            .Where(m => m.Status == SiloStatus.Active && m.Name == name && compatible.Contains(m.SiloAddress))
            .Select(m => m.SiloAddress).ToList();
        if (named.Count == 0)
            throw new OrleansException($"no active silo is named '{name}', so the MechInterp coordinator cannot be placed: start the coordinator silo " +
                $"with AddMechInterpCoordinator(o => o.Name = \"{name}\") or point the workers and clients at the name it has");
        return Task.FromResult(named[0]);
    }
}
