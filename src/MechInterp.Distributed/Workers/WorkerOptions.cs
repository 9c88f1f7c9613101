using MechInterp.Distributed.Jobs;

namespace MechInterp.Distributed.Workers;

/// <summary>Settings of a worker silo (<see cref="Hosting.DistributedHosting.AddMechInterpWorker"/>).</summary>
public sealed class WorkerOptions
{
    /// <summary>The name of the coordinator silo to pull units from. Default "coordinator".</summary>
    public string Coordinator { get; set; } = "coordinator";

    /// <summary>One model replica per entry, each on its device ("cpu", "torch-cpu", "cuda:0", "cuda:1", ...; see
    /// <see cref="Device.Parse"/>); each replica runs one unit at a time. Default: one replica on the managed CPU backend.</summary>
    public IList<string> Devices { get; } = ["cpu"];

    /// <summary>How long a replica waits before asking again when no job has a unit for it. Default 20 ms.</summary>
    public TimeSpan IdlePoll { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Named metrics this worker resolves (<see cref="MetricSpec.Named"/>); register the same on every worker.</summary>
    public MetricRegistry Metrics { get; } = new();
}
