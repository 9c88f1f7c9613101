namespace MechInterp.Distributed.Coordination;

/// <summary>Settings of the coordinator silo (<see cref="Hosting.DistributedHosting.AddMechInterpCoordinator"/>).</summary>
public sealed class CoordinatorOptions
{
    /// <summary>The coordinator silo's name, which workers and clients use to reach it (the coordinator grain is placed
    /// on the silo of this name). Default "coordinator".</summary>
    public string Name { get; set; } = "coordinator";

    /// <summary>A unit not recorded this long after it was handed out is handed out again (a hung worker); a late
    /// result of the first lease is then dropped if the second is recorded first. Default 30 minutes.</summary>
    public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often the coordinator checks cluster membership for dead worker silos (it also checks on every
    /// request). Default 1 s.</summary>
    public TimeSpan MembershipCheckPeriod { get; set; } = TimeSpan.FromSeconds(1);
}
