// A patching sweep on a local Orleans cluster (a coordinator silo and N worker silos, each its own Orleans host with
// its own 127.0.0.1 ports, talking over TCP), compared with the single-process sweep of the same model and prompts.
//   dotnet run --project samples/DistributedSweep -c Release -- --silos 3
//   dotnet run --project samples/DistributedSweep -c Release -- --silos 3 --kill     # one worker dies mid-job
//   dotnet run --project samples/DistributedSweep -c Release -- --silos 3 --bench    # timings for docs/benchmarks.md
using System.Diagnostics;
using DistributedSweep;
using MechInterp;
using MechInterp.Distributed;
using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Hosting;
using MechInterp.Distributed.Jobs;
using MechInterp.Patching;

SweepOptions o;
try { o = SweepOptions.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }

if (o.WorkerName is { } worker) return await WorkerProcesses.RunWorker(worker, o.PrimaryPort, o.Parent);

var model = HookedTransformer.FromPretrained(o.Model);
var (job, baseTokens, sourceTokens, metric) = Prompts.Make(model, o);
Console.WriteLine($"model {o.Model}: {model.Config.NLayers} layers, {model.Config.NHeads} heads; prompts [{o.Batch}, {o.Positions}]; " +
    $"sweep '{o.Activation}' over [{string.Join(", ", job.Axes)}], {o.CellsPerUnit} cells per unit");

float[] Single()
{
    using var scope = Tensor.Scope();
    var (_, cache) = model.RunWithCache(sourceTokens);
    return ActivationPatching.Generic(model, baseTokens, cache, metric, job.Activation, job.Axes).ToArray<float>();
}

double BaseForwardMs()
{
    using var scope = Tensor.Scope();
    var watch = Stopwatch.StartNew();
    model.RunWithCache(baseTokens, name => false);
    return watch.Elapsed.TotalMilliseconds;
}

if (o.Bench) { await Bench.Run(o, job, Single, BaseForwardMs); return 0; }

var watch = Stopwatch.StartNew();
var single = Single();
Console.WriteLine($"single process: {single.Length} cells in {watch.ElapsedMilliseconds} ms");

watch.Restart();
await using var cluster = await LoopbackCluster.StartAsync(o.InProcess ? o.Silos : 0).WaitAsync(TimeSpan.FromMinutes(2));
await using var processes = o.InProcess ? null : WorkerProcesses.Start(o.Silos, cluster.PrimaryEndpoint);
if (processes is not null) await WorkerProcesses.WaitForMembers(cluster.Coordinator, o.Silos, TimeSpan.FromMinutes(2));
Console.WriteLine($"cluster: coordinator + {o.Silos} worker silo(s) {(o.InProcess ? "in this process" : "in their own processes")} on 127.0.0.1, up in {watch.ElapsedMilliseconds} ms");

bool killed = false;
var progress = new ConsoleProgress(p =>
{
    Console.WriteLine($"  units {p.Done}/{p.Units} recorded, {p.InFlight} in flight, {p.Reassigned} reassigned");
    if (o.Kill && !killed && p.InFlight > 0 && p.Units > 0 && p.Done < p.Units / 2)
    {
        killed = true;
        Console.WriteLine("  killing worker-1 (no grace: its lease stays with it until membership declares it dead)");
        if (processes is not null) processes.Kill(0);
        else _ = cluster.KillWorkerAsync(0);
    }
});
watch.Restart();
var result = await cluster.Grains.RunSweepAsync(job, progress).WaitAsync(TimeSpan.FromMinutes(10));
var status = result.Status;
Console.WriteLine($"cluster: {status.Units} units in {watch.ElapsedMilliseconds} ms; recorded by [{string.Join(", ", status.UnitsBySilo.OrderBy(k => k.Key).Select(kv => $"{kv.Key}: {kv.Value}"))}]; " +
    $"{status.Reassigned} reassigned, {status.DuplicatesIgnored} late duplicate(s) dropped, each unit recorded {string.Join("/", status.RecordsPerUnit.Distinct())} time(s)");

int same = single.Zip(result.Values).Count(p => BitConverter.SingleToInt32Bits(p.First) == BitConverter.SingleToInt32Bits(p.Second));
double worst = single.Zip(result.Values).Max(p => Math.Abs((double)p.First - p.Second));
Console.WriteLine($"comparison: {same}/{single.Length} cells bit-identical to the single-process sweep, max |difference| = {worst:E2}");
Console.WriteLine("cells furthest from the sweep's mean (single process | cluster):");
foreach (var i in Enumerable.Range(0, single.Length).OrderByDescending(i => Math.Abs(single[i] - single.Average())).Take(5))
    Console.WriteLine($"  {Prompts.CellName(result.Shape, i),-28} {single[i],12:F6} | {result.Values[i],12:F6}");
return same == single.Length ? 0 : 1;

/// <summary>Writes each report at once (Progress{T} would post them to the thread pool, out of order).</summary>
internal sealed class ConsoleProgress(Action<JobProgress> report) : IProgress<JobProgress>
{
    public void Report(JobProgress value) => report(value);
}
