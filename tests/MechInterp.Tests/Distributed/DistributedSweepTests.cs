using MechInterp.Distributed;
using MechInterp.Distributed.Coordination;
using MechInterp.Distributed.Hosting;
using MechInterp.Distributed.Jobs;
using MechInterp.Distributed.Workers;
using MechInterp.Patching;
using MechInterp.Tests.Patching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Distributed;

/// <summary>
/// Sweeps on a cluster of silos on loopback (each its own Orleans host and TCP ports in this process): the result
/// equals the single-process sweep bit for bit on the managed backend (and the Hugging Face oracle within its
/// tolerance), with every unit recorded once, also when a worker silo is killed holding a unit.
/// </summary>
public sealed class DistributedSweepTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    private static string FixtureFolder(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static PatchSweepJob Job(PatchingOracle o, string activation, PatchAxis[] axes, int cellsPerUnit) => new()
    {
        Model = FixtureFolder("gpt2-tiny"),
        BaseTokens = TokenBatch.From(o.Corrupted),
        SourceTokens = TokenBatch.From(o.Clean),
        Activation = activation,
        Axes = axes,
        Metric = MetricSpec.LogitDifference(o.Answers, o.Wrong),
        CellsPerUnit = cellsPerUnit,
    };

    [Fact]
    public async Task ThreeWorkerSilosGiveTheSingleProcessSweepBitForBitWithEachUnitRecordedOnce()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var single = new Dictionary<string, float[]>
        {
            ["resid_pre"] = ActivationPatching.ResidPre(o.Model, o.Corrupted, clean, o.Metric).ToArray<float>(),
            ["z_head_pos"] = ActivationPatching.AttnHeadOutByPos(o.Model, o.Corrupted, clean, o.Metric).ToArray<float>(),
        };
        await using var cluster = await LoopbackCluster.StartAsync(3).WaitAsync(s_bound);
        // 5 and 7 cells per unit: units straddle layers and split the single-process run's batched passes differently.
        var jobs = new (string Key, PatchSweepJob Job, long[] Shape)[]
        {
            ("resid_pre", Job(o, "resid_pre", [PatchAxis.Pos], 5), [o.Model.Config.NLayers, o.Clean.Shape[1]]),
            ("z_head_pos", Job(o, "z", [PatchAxis.Pos, PatchAxis.Head], 7), [o.Model.Config.NLayers, o.Clean.Shape[1], o.Model.Config.NHeads]),
        };
        foreach (var (key, job, shape) in jobs)
        {
            var reports = new List<JobProgress>();
            var result = await cluster.Grains.RunSweepAsync(job, new SynchronousProgress<JobProgress>(reports.Add)).WaitAsync(s_bound);
            var s = result.Status;
            output.WriteLine($"{key}: {s.Units} units, by silo [{string.Join(", ", s.UnitsBySilo.Select(kv => $"{kv.Key}: {kv.Value}"))}], {reports.Count} progress reports");
            Assert.Equal(shape, result.Shape);
            Assert.Equal(single[key], result.Values); // exact: the same cells through the same engine on the same backend
            o.AssertMatches("denoise_" + key, result.ToTensor());
            Assert.Equal(JobState.Completed, s.State);
            Assert.Equal((int)Math.Ceiling(single[key].Length / (double)job.CellsPerUnit), s.Units);
            Assert.All(s.RecordsPerUnit, r => Assert.Equal(1, r));
            Assert.Equal(s.Units, s.UnitsBySilo.Values.Sum());
            Assert.All(s.UnitsBySilo.Keys, k => Assert.StartsWith("worker-", k));
            Assert.Equal(s.Units, reports[^1].Done);
            Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second.Done >= p.First.Done), "progress went backwards");
        }
    }

    [Fact]
    public async Task AWorkerKilledHoldingAUnitHasItReassignedAndTheResultIsUnchanged()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var single = ActivationPatching.AttnHeadOutByPos(o.Model, o.Corrupted, clean, o.Metric).ToArray<float>();
        var stall = new StallingExecutor();
        var options = new LoopbackClusterOptions
        {
            // worker-1 takes one unit and never finishes it: it is killed while it holds the lease.
            ConfigureSilo = (index, silo) =>
            {
                if (index != 0) return;
                silo.Services.RemoveAll<IUnitExecutor>();
                silo.Services.AddSingleton<IUnitExecutor>(stall);
            },
        };
        await using var cluster = await LoopbackCluster.StartAsync(3, options).WaitAsync(s_bound);
        var run = cluster.Grains.RunSweepAsync(Job(o, "z", [PatchAxis.Pos, PatchAxis.Head], 4));
        await stall.Holding.Task.WaitAsync(s_bound);
        await cluster.KillWorkerAsync(0);
        var result = await run.WaitAsync(s_bound);
        var s = result.Status;
        output.WriteLine($"{s.Units} units, {s.Reassigned} reassigned, {s.DuplicatesIgnored} duplicates dropped, by silo [{string.Join(", ", s.UnitsBySilo.Select(kv => $"{kv.Key}: {kv.Value}"))}]");
        Assert.Equal(single, result.Values);
        Assert.True(s.Reassigned >= 1, "the killed worker's unit was never handed out again");
        Assert.All(s.RecordsPerUnit, r => Assert.Equal(1, r));
        Assert.False(s.UnitsBySilo.ContainsKey("worker-1"), "the killed worker recorded a unit");
        Assert.Equal(s.Units, s.UnitsBySilo.Values.Sum());
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Takes a unit, says so, and holds it until its silo stops.</summary>
    private sealed class StallingExecutor : IUnitExecutor
    {
        public TaskCompletionSource Holding { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Handles(DistributedJob job) => true;

        public UnitResult Run(ModelReplica replica, DistributedJob job, UnitLease lease, CancellationToken cancellationToken)
        {
            Holding.TrySetResult();
            cancellationToken.WaitHandle.WaitOne();
            throw new OperationCanceledException(cancellationToken);
        }
    }
}
