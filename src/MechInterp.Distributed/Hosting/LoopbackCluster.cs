using System.Net;
using System.Net.Sockets;
using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Workers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace MechInterp.Distributed.Hosting;

/// <summary>
/// A cluster on this machine: a coordinator silo and <c>n</c> worker silos, each its own Orleans host in this process
/// with its own loopback (127.0.0.1) ports, talking over TCP as silos on separate machines do (every job, unit and
/// result is serialised). For tests, benchmarks and trying the package; a real cluster runs one silo per machine with
/// Redis or ADO.NET clustering (docs/distributed.md).
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    private readonly List<IHost?> _workers;

    private LoopbackCluster(IHost coordinator, List<IHost?> workers, IPEndPoint primary)
    {
        Coordinator = coordinator;
        _workers = workers;
        PrimaryEndpoint = primary;
    }

    /// <summary>The coordinator silo's endpoint, which every silo of the cluster joins through (development
    /// clustering keeps the membership table there); hand it to <see cref="JoinWorker"/> in another process.</summary>
    public IPEndPoint PrimaryEndpoint { get; }

    /// <summary>The coordinator silo's host.</summary>
    public IHost Coordinator { get; }

    /// <summary>A grain factory on the coordinator silo, to submit jobs (<see cref="DistributedJobs"/>).</summary>
    public IGrainFactory Grains => Coordinator.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Worker silos started (including those since stopped).</summary>
    public int WorkerCount => _workers.Count;

    /// <summary>The host of worker <paramref name="index"/>, or null once it was stopped.</summary>
    /// <param name="index">0-based worker index (silo name <c>worker-{index + 1}</c>).</param>
    public IHost? Worker(int index) => _workers[index];

    /// <summary>Starts a coordinator silo and <paramref name="workers"/> worker silos and waits until all are active.</summary>
    /// <param name="workers">Worker silos (each with the replicas <see cref="LoopbackClusterOptions.Worker"/> asks for).</param>
    /// <param name="options">Worker settings, per-silo hooks, failure detection, logging.</param>
    /// <param name="cancellationToken">Stops the start.</param>
    public static async Task<LoopbackCluster> StartAsync(int workers, LoopbackClusterOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (workers < 0) throw new ArgumentOutOfRangeException(nameof(workers), workers, "a cluster has zero or more worker silos");
        options ??= new LoopbackClusterOptions();
        var (siloPort, gatewayPort) = (FreePort(), FreePort());
        var primary = new IPEndPoint(IPAddress.Loopback, siloPort);
        var coordinator = Build(options, "coordinator", siloPort, gatewayPort, primary, silo =>
        {
            silo.AddMechInterpCoordinator(o => o.MembershipCheckPeriod = TimeSpan.FromMilliseconds(250));
            options.ConfigureSilo?.Invoke(-1, silo);
        });
        await coordinator.StartAsync(cancellationToken);
        var cluster = new LoopbackCluster(coordinator, [], primary);
        try
        {
            var started = new List<Task>();
            for (int w = 0; w < workers; w++)
            {
                int index = w;
                var host = Build(options, $"worker-{w + 1}", FreePort(), FreePort(), primary, silo =>
                {
                    silo.AddMechInterpWorker(o => options.Worker?.Invoke(o));
                    options.ConfigureSilo?.Invoke(index, silo);
                });
                cluster._workers.Add(host);
                started.Add(host.StartAsync(cancellationToken));
            }
            await Task.WhenAll(started);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>A worker silo host (not started) that joins the loopback cluster whose coordinator listens at
    /// <paramref name="primary"/>, e.g. from another process, on free loopback ports of its own.</summary>
    /// <param name="primary">The cluster's <see cref="PrimaryEndpoint"/>.</param>
    /// <param name="name">The silo's name (how the coordinator reports it).</param>
    /// <param name="options">The same options the cluster was started with.</param>
    public static IHost JoinWorker(IPEndPoint primary, string name, LoopbackClusterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        options ??= new LoopbackClusterOptions();
        return Build(options, name, FreePort(), FreePort(), primary, silo =>
        {
            silo.AddMechInterpWorker(o => options.Worker?.Invoke(o));
            options.ConfigureSilo?.Invoke(0, silo);
        });
    }

    /// <summary>Stops worker <paramref name="index"/> as a crash would: no unit in hand is finished, no lease handed
    /// back; the coordinator learns of it when membership declares the silo dead.</summary>
    /// <param name="index">0-based worker index.</param>
    public async Task KillWorkerAsync(int index)
    {
        var host = _workers[index] ?? throw new InvalidOperationException($"worker {index} is already stopped");
        _workers[index] = null;
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        try { await host.StopAsync(now.Token); } catch (OperationCanceledException) { }
        host.Dispose();
    }

    /// <summary>Stops worker <paramref name="index"/> gracefully: its unit in hand is finished and its leases handed back.</summary>
    /// <param name="index">0-based worker index.</param>
    public async Task StopWorkerAsync(int index)
    {
        var host = _workers[index] ?? throw new InvalidOperationException($"worker {index} is already stopped");
        _workers[index] = null;
        await host.StopAsync();
        host.Dispose();
    }

    /// <summary>Stops every silo, workers first.</summary>
    public async ValueTask DisposeAsync()
    {
        for (int w = 0; w < _workers.Count; w++)
            if (_workers[w] is not null) await StopWorkerAsync(w);
        using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try { await Coordinator.StopAsync(bounded.Token); } catch (OperationCanceledException) { }
        Coordinator.Dispose();
    }

    private static IHost Build(LoopbackClusterOptions options, string name, int siloPort, int gatewayPort, IPEndPoint primary, Action<ISiloBuilder> configure) =>
        new HostBuilder()
            .UseOrleans(silo =>
            {
                silo.UseLocalhostClustering(siloPort, gatewayPort, primary, options.ServiceId, options.ClusterId);
                silo.Configure<SiloOptions>(o => o.SiloName = name);
                if (options.FastFailureDetection)
                    silo.Configure<ClusterMembershipOptions>(o =>
                    {
                        o.ProbeTimeout = TimeSpan.FromMilliseconds(500);
                        o.NumMissedProbesLimit = 2;
                        o.NumVotesForDeathDeclaration = 1;
                        o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                    });
                configure(silo);
            })
            .ConfigureLogging(l => l.SetMinimumLevel(options.LogLevel))
            .ConfigureServices(s => s.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10)))
            .Build();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
