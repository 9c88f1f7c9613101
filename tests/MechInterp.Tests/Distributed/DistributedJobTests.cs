using MechInterp.Distributed;
using MechInterp.Distributed.Hosting;
using MechInterp.Distributed.Jobs;
using MechInterp.Patching;
using MechInterp.Saes;
using MechInterp.Tests.Patching;
using Xunit;

namespace MechInterp.Tests.Distributed;

/// <summary>Harvests, named metrics and failing jobs on a two-worker loopback cluster, and the job descriptions' checks.</summary>
public sealed class DistributedJobTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(60);

    private static string Gpt2Tiny => Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2-tiny");

    [Fact]
    public async Task AHarvestWritesTheActivationsOfEverySequenceInDatasetOrder()
    {
        var model = HookedTransformer.FromPretrained(Gpt2Tiny);
        using var scope = Tensor.Scope();
        const int sequences = 6, positions = 8;
        var rng = new Random(17);
        var ids = Enumerable.Range(0, sequences * positions).Select(_ => (long)rng.Next(model.Config.DVocab)).ToArray();
        var tokens = Tensor.FromArray(ids, sequences, positions);
        string hook = ActName.ResidPre(1);
        // The reference: one plain RunWithCache over the whole dataset, rows in (sequence, position) order.
        var (_, cache) = model.RunWithCache(tokens, [hook]);
        var expected = cache[hook].Reshape(sequences * positions, -1).ToArray<float>();
        string folder = Path.Combine(Path.GetTempPath(), "mechinterp-harvest-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var cluster = await LoopbackCluster.StartAsync(2).WaitAsync(s_bound);
            var job = new HarvestJob
            {
                Model = Gpt2Tiny, Tokens = TokenBatch.From(tokens), Hooks = [hook], OutputFolder = folder,
                SequencesPerUnit = 2, BatchTokens = positions, SequencesPerPass = 1,
            };
            var result = await cluster.Grains.RunHarvestAsync(job).WaitAsync(s_bound);
            Assert.Equal(3, result.Folders.Length);
            Assert.Equal([2, 2, 2], result.BatchesPerUnit); // a batch is one sequence's 8 rows
            Assert.All(result.Status.RecordsPerUnit, r => Assert.Equal(1, r));
            var rows = result.Folders.SelectMany(f => ActivationShards.Read(f)).SelectMany(b => b[hook].ToArray<float>()).ToArray();
            Assert.Equal(expected, rows);
            Assert.Empty(Directory.GetDirectories(folder, "*.partial"));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task NamedMetricsResolveOnTheWorkersAndAnUnknownOneFailsTheJobNamingIt()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var single = ActivationPatching.ResidPre(o.Model, o.Corrupted, clean, o.Metric).ToArray<float>();
        var options = new LoopbackClusterOptions
        {
            // arguments: answer and wrong token per prompt, interleaved
            Worker = w => w.Metrics.Register("logit_diff_pairs", ctx => PatchingMetrics.LogitDifference(
                ctx.Arguments.Where((_, i) => i % 2 == 0).Select(a => (long)a).ToArray(),
                ctx.Arguments.Where((_, i) => i % 2 == 1).Select(a => (long)a).ToArray())),
        };
        await using var cluster = await LoopbackCluster.StartAsync(2, options).WaitAsync(s_bound);
        var pairs = o.Answers.Zip(o.Wrong).SelectMany(p => new double[] { p.First, p.Second }).ToArray();
        var job = new PatchSweepJob
        {
            Model = Gpt2Tiny, BaseTokens = TokenBatch.From(o.Corrupted), SourceTokens = TokenBatch.From(o.Clean),
            Activation = "resid_pre", Axes = [PatchAxis.Pos], Metric = MetricSpec.Named("logit_diff_pairs", pairs),
        };
        var result = await cluster.Grains.RunSweepAsync(job).WaitAsync(s_bound);
        Assert.Equal(single, result.Values);
        Assert.Equal(o.Model.Config.NLayers, result.Status.Units); // one layer per unit by default

        var unknown = job with { Metric = MetricSpec.Named("no_such_metric") };
        var e = await Assert.ThrowsAsync<DistributedJobException>(() => cluster.Grains.RunSweepAsync(unknown).WaitAsync(s_bound));
        Assert.Contains("no_such_metric", e.Message);
        Assert.Contains("logit_diff_pairs", e.Message); // what the worker does have
    }

    [Fact]
    public void AMetricSpecResolvesToTheSingleProcessMetric()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var logits = o.Model.Forward(o.Corrupted);
        var context = new MetricContext(o.Model, o.Corrupted, []);
        Assert.Equal(o.Metric(logits).Item<float>(), MetricSpec.LogitDifference(o.Answers, o.Wrong).Resolve(context, null)(logits).Item<float>());
        Assert.Equal(PatchingMetrics.TokenProbability(o.Answers, ^2)(logits).Item<float>(),
            MetricSpec.TokenProbability(o.Answers, -2).Resolve(context, null)(logits).Item<float>());
        Assert.Equal(PatchingMetrics.Loss(o.Corrupted)(logits).Item<float>(), MetricSpec.Loss().Resolve(context, null)(logits).Item<float>());
        var missing = Assert.Throws<KeyNotFoundException>(() => MetricSpec.Named("mine").Resolve(context, null));
        Assert.Contains("AddMechInterpWorker", missing.Message);
    }

    [Fact]
    public void BadJobsAreRejectedNamingTheField()
    {
        var tokens = new TokenBatch([1, 2, 3, 4], 2, 2);
        var job = new PatchSweepJob
        {
            Model = "m", BaseTokens = tokens, SourceTokens = tokens, Activation = "resid_pre", Axes = [PatchAxis.Pos],
            Metric = MetricSpec.Loss(),
        };
        job.Validate();
        Assert.Contains("Axes", Assert.Throws<ArgumentException>(() => (job with { Axes = [] }).Validate()).Message);
        Assert.Contains("SourceTokens", Assert.Throws<ArgumentException>(() => (job with { SourceTokens = new TokenBatch([1, 2, 3], 1, 3) }).Validate()).Message);
        Assert.Contains("CellsPerUnit", Assert.Throws<ArgumentException>(() => (job with { CellsPerUnit = -1 }).Validate()).Message);
        Assert.Contains("batch × positions", Assert.Throws<ArgumentException>(() => new TokenBatch([1, 2, 3], 2, 2)).Message);
        Assert.Contains("one right and one wrong", Assert.Throws<ArgumentException>(() => MetricSpec.LogitDifference([1], [])).Message);
    }
}
