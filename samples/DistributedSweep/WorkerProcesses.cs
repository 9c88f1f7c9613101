using System.Diagnostics;
using System.Net;
using MechInterp.Distributed.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace DistributedSweep;

/// <summary>Worker silos as child processes of this sample (the same executable with --worker), each joining the
/// coordinator's loopback cluster; killing one is a real crash: the process ends mid-unit.</summary>
internal sealed class WorkerProcesses : IAsyncDisposable
{
    private readonly List<Process> _children = [];

    public static WorkerProcesses Start(int count, IPEndPoint primary)
    {
        var workers = new WorkerProcesses();
        for (int w = 1; w <= count; w++)
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!)
            {
                ArgumentList = { "--worker", $"worker-{w}", "--primary-port", primary.Port.ToString(), "--parent", Environment.ProcessId.ToString() },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // `dotnet DistributedSweep.dll` (no apphost): run the dll again through the same host.
            if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet") start.ArgumentList.Insert(0, typeof(WorkerProcesses).Assembly.Location);
            var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
            child.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.WriteLine($"  [worker-{child.Id}] {e.Data}"); };
            child.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.WriteLine($"  [worker-{child.Id}] {e.Data}"); };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            workers._children.Add(child);
        }
        return workers;
    }

    /// <summary>Waits until <paramref name="count"/> worker silos are active members of the cluster.</summary>
    public static async Task WaitForMembers(IHost coordinator, int count, TimeSpan timeout)
    {
        var membership = coordinator.Services.GetRequiredService<IClusterMembershipService>();
        var watch = Stopwatch.StartNew();
        while (membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active && m.Name.StartsWith("worker-", StringComparison.Ordinal)) < count)
        {
            if (watch.Elapsed > timeout) throw new TimeoutException($"{count} worker processes did not join the cluster within {timeout.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    /// <summary>Kills worker <paramref name="index"/> (0-based) outright.</summary>
    public void Kill(int index) => _children[index].Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        foreach (var child in _children)
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            child.Dispose();
        }
    }

    /// <summary>--worker NAME: a worker silo that joins the cluster at --primary-port and runs until its parent exits.</summary>
    public static async Task<int> RunWorker(string name, int primaryPort, int parent)
    {
        using var host = LoopbackCluster.JoinWorker(new IPEndPoint(IPAddress.Loopback, primaryPort), name);
        await host.StartAsync();
        Console.WriteLine($"{name} joined the cluster at 127.0.0.1:{primaryPort} (pid {Environment.ProcessId})");
        while (IsAlive(parent)) await Task.Delay(500);
        await host.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token);
        return 0;
    }

    private static bool IsAlive(int pid)
    {
        try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
    }
}
