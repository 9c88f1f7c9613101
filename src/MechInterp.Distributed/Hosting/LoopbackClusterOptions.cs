using MechInterp.Distributed.Workers;
using Microsoft.Extensions.Logging;

namespace MechInterp.Distributed.Hosting;

/// <summary>How <see cref="LoopbackCluster"/> builds its silos.</summary>
public sealed class LoopbackClusterOptions
{
    /// <summary>Changes each worker's settings (devices, named metrics).</summary>
    public Action<WorkerOptions>? Worker { get; set; }

    /// <summary>Further configuration of each silo: called with the worker index (−1 for the coordinator silo).</summary>
    public Action<int, ISiloBuilder>? ConfigureSilo { get; set; }

    /// <summary>Probe silos every 0.5 s and declare one dead after two missed probes and one vote, so a killed
    /// worker's units come back within seconds (Orleans' defaults take tens of seconds). Default on.</summary>
    public bool FastFailureDetection { get; set; } = true;

    /// <summary>The cluster's Orleans cluster id. Default "mechinterp-local".</summary>
    public string ClusterId { get; set; } = "mechinterp-local";

    /// <summary>The cluster's Orleans service id. Default "mechinterp".</summary>
    public string ServiceId { get; set; } = "mechinterp";

    /// <summary>The silos' minimum log level. Default Warning.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Warning;
}
