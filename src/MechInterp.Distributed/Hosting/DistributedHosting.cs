using Orleans.Configuration;
using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MechInterp.Distributed.Hosting;

/// <summary>
/// Turns an Orleans silo into a MechInterp coordinator, a worker, or both. Clustering (which silos form the cluster)
/// is the host's choice: <c>UseLocalhostClustering</c> on one machine, Redis or ADO.NET clustering across machines
/// (docs/distributed.md).
/// </summary>
public static class DistributedHosting
{
    /// <summary>Makes this silo the coordinator: names it <see cref="CoordinatorOptions.Name"/>, which workers and
    /// clients use to reach the coordinator grain placed here.</summary>
    /// <param name="silo">The silo builder.</param>
    /// <param name="configure">Changes the defaults.</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddMechInterpCoordinator(this ISiloBuilder silo, Action<CoordinatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var options = new CoordinatorOptions();
        configure?.Invoke(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name, nameof(CoordinatorOptions.Name));
        if (options.LeaseTimeout <= TimeSpan.Zero || options.MembershipCheckPeriod <= TimeSpan.Zero)
            throw new ArgumentException($"CoordinatorOptions: LeaseTimeout ({options.LeaseTimeout}) and MembershipCheckPeriod ({options.MembershipCheckPeriod}) must be positive");
        silo.Configure<SiloOptions>(o => o.SiloName = options.Name);
        silo.Services.Configure<CoordinatorOptions>(o =>
        {
            o.Name = options.Name;
            o.LeaseTimeout = options.LeaseTimeout;
            o.MembershipCheckPeriod = options.MembershipCheckPeriod;
        });
        AddPlacement(silo);
        return silo;
    }

    /// <summary>Makes this silo a worker: one model replica per <see cref="WorkerOptions.Devices"/> entry, each pulling
    /// units from the coordinator while the silo is active.</summary>
    /// <param name="silo">The silo builder.</param>
    /// <param name="configure">Changes the defaults (devices, coordinator name, named metrics).</param>
    /// <returns>The silo builder.</returns>
    public static ISiloBuilder AddMechInterpWorker(this ISiloBuilder silo, Action<WorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var options = new WorkerOptions();
        configure?.Invoke(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Coordinator, nameof(WorkerOptions.Coordinator));
        foreach (var d in options.Devices) Device.Parse(d); // a bad device name fails here, not in the first unit
        silo.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        silo.Services.AddSingleton(options.Metrics);
        silo.Services.AddSingleton<IUnitExecutor, PatchSweepExecutor>();
        silo.Services.AddSingleton<IUnitExecutor, HarvestExecutor>();
        silo.Services.AddSingleton<UnitWorker>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<UnitWorker>());
        AddPlacement(silo);
        return silo;
    }

    /// <summary>Every silo may be asked to place the coordinator (the first caller's silo decides), so each knows how.</summary>
    private static void AddPlacement(ISiloBuilder silo)
    {
        if (silo.Services.Any(s => s.ServiceType == typeof(CoordinatorPlacementMarker))) return;
        silo.Services.TryAddSingleton<CoordinatorPlacementMarker>();
        silo.Services.AddPlacementDirector<CoordinatorPlacement, CoordinatorPlacementDirector>();
    }

    private sealed class CoordinatorPlacementMarker;
}
