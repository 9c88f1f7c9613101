using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Jobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MechInterp.Distributed.Workers;

/// <summary>
/// The worker side of a silo: when the silo becomes active, one loop per model replica (<see cref="WorkerOptions.Devices"/>)
/// pulls a unit from the coordinator, runs it and sends the result back, until the silo stops. A graceful stop lets the
/// unit in hand finish and hands the replicas' leases back; a silo that dies holds its leases until membership declares
/// it dead, when the coordinator hands them out again.
/// </summary>
internal sealed class UnitWorker(IGrainFactory grains, ILocalSiloDetails silo, IOptions<WorkerOptions> options,
    IEnumerable<IUnitExecutor> executors, ILogger<UnitWorker> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(WorkerId Id, Task Loop)> _loops = [];

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(UnitWorker), ServiceLifecycleStage.Active, OnStart, OnStop);

    private Task OnStart(CancellationToken cancellationToken)
    {
        var devices = options.Value.Devices;
        if (devices.Count == 0) throw new ArgumentException("WorkerOptions.Devices is empty: list one device per model replica, e.g. \"cpu\" or \"cuda:0\"");
        for (int r = 0; r < devices.Count; r++)
        {
            var replica = new ModelReplica(r, Device.Parse(devices[r]));
            var id = new WorkerId(silo.SiloAddress, silo.Name, r, devices[r]);
            // No ambient tensor scope, hook context or grad mode of the silo's start-up flows into the loop.
            using (ExecutionContext.SuppressFlow())
                _loops.Add((id, Task.Run(() => Loop(id, replica, _stop.Token))));
        }
        logger.LogInformation("MechInterp worker {Silo}: {Count} replica(s) on [{Devices}], coordinator '{Coordinator}'",
            silo.Name, devices.Count, string.Join(", ", devices), options.Value.Coordinator);
        return Task.CompletedTask;
    }

    private async Task OnStop(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        bool graceful = !cancellationToken.IsCancellationRequested;
        try { await Task.WhenAll(_loops.Select(l => l.Loop)).WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { graceful = false; }
        if (!graceful) return; // a silo stopped without grace holds its leases until membership declares it dead
        var coordinator = grains.GetGrain<IJobCoordinatorGrain>(options.Value.Coordinator);
        foreach (var (id, _) in _loops)
        {
            try { await coordinator.Release(id).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken); }
            catch (Exception e) when (e is not OperationCanceledException) { logger.LogWarning(e, "could not hand {Worker}'s leases back", id); }
        }
    }

    private async Task Loop(WorkerId id, ModelReplica replica, CancellationToken stop)
    {
        var coordinator = grains.GetGrain<IJobCoordinatorGrain>(options.Value.Coordinator);
        var jobs = new Dictionary<string, DistributedJob>(StringComparer.Ordinal);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var lease = await coordinator.Lease(id);
                if (lease is null) { await Task.Delay(options.Value.IdlePoll, stop); continue; }
                if (!jobs.TryGetValue(lease.JobId, out var job)) jobs[lease.JobId] = job = await coordinator.GetJob(lease.JobId);
                var executor = executors.FirstOrDefault(e => e.Handles(job));
                UnitResult result;
                try
                {
                    if (executor is null) throw new NotSupportedException($"this worker has no executor for {job.GetType().Name} jobs");
                    result = executor.Run(replica, job, lease, stop);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
                catch (Exception e)
                {
                    await coordinator.Fail(id, lease, $"{e.GetType().Name}: {e.Message}");
                    continue;
                }
                await coordinator.Record(id, lease, result);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                // The coordinator silo is not up yet, or a call failed on the way: ask again shortly.
                logger.LogDebug(e, "{Worker}: coordinator call failed; retrying", id);
                try { await Task.Delay(TimeSpan.FromMilliseconds(250), stop); } catch (OperationCanceledException) { break; }
            }
        }
    }
}
