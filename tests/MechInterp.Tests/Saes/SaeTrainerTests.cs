using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>The trainer: a resumed run equals the uninterrupted one bit for bit, schedules follow their formulas,
/// decoder rows stay unit, progress is reported, dead latents are tracked, JumpReLU's L0 falls.</summary>
public sealed class SaeTrainerTests : IDisposable
{
    private readonly string _tmp = Path.Combine(Path.GetTempPath(), "sae-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, recursive: true);
    }

    private static SaeConfig Config(string architecture, int? k = null) => new()
    {
        Architecture = architecture, DIn = 32, DSae = 64, K = k, RescaleActsByDecoderNorm = k is null ? null : true,
    };

    private static Sae Fresh(string architecture, Device device) => architecture switch
    {
        "batchtopk" => SaeInitialization.CreateBatchTopK(Config("standard"), 3.5, new Generator(5), device),
        "topk" => SaeInitialization.Create(Config("topk", 4), new Generator(5), device),
        _ => SaeInitialization.Create(Config(architecture), new Generator(5), device),
    };

    private static SaeTrainerOptions Options(string architecture) => new()
    {
        TotalSteps = 20, LearningRate = 3e-3, LrWarmupSteps = 5, LrDecaySteps = 6, SparsityWarmupSteps = 7,
        NormalizeDecoder = architecture is "standard" or "gated", DeadTokensWindow = 3 * 64,
        Loss = new SaeLossOptions { SparsityCoefficient = 0.5, PreActLossCoefficient = architecture == "jumprelu" ? 0.1 : null },
    };

    public static TheoryData<string, string> Cases()
    {
        var d = new TheoryData<string, string>();
        foreach (var a in new[] { "standard", "topk", "jumprelu", "gated", "batchtopk" }) d.Add(a, Device.Cpu.ToString());
        d.Add("topk", Device.TorchCpu.ToString());
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResumedRunEqualsUninterruptedRun(string architecture, string device)
    {
        var dev = Device.Parse(device);
        var data = new SyntheticSparseFeatures(96, 32, 3, seed: 3);
        var straight = Fresh(architecture, dev);
        new SaeTrainer(straight, Options(architecture)).Train(data.Batches(64, device: dev));

        var first = Fresh(architecture, dev);
        var interrupted = new SaeTrainer(first, Options(architecture));
        interrupted.Train(data.Batches(64, device: dev).Take(8));
        Assert.Equal(8, interrupted.StepCount);
        string folder = Path.Combine(_tmp, architecture + device);
        interrupted.SaveCheckpoint(folder);

        var second = Fresh(architecture, dev); // a new process would start from a fresh SAE
        var resumed = new SaeTrainer(second, Options(architecture));
        resumed.Resume(folder);
        Assert.Equal(8, resumed.StepCount);
        resumed.Train(data.Batches(64, start: resumed.StepCount, device: dev));
        Assert.Equal(20, resumed.StepCount);

        foreach (var (name, p) in straight.Weights)
            Assert.True(p.Value.ToArray<float>().SequenceEqual(second.Weights[name].Value.ToArray<float>()), $"{architecture}: {name} differs after resuming");
        if (straight is BatchTopKSae a && second is BatchTopKSae b) Assert.Equal(a.TopKThreshold, b.TopKThreshold);
        // The checkpoint folder is also a loadable SAELens folder.
        Assert.Equal(architecture == "batchtopk" ? "jumprelu" : architecture, Sae.Load(folder).Config.Architecture);
    }

    [Fact]
    public void SchedulesFollowTheirFormulas()
    {
        var o = new SaeTrainerOptions { TotalSteps = 100, LearningRate = 1.0, LrWarmupSteps = 10, LrDecaySteps = 20, SparsityWarmupSteps = 4, Loss = new SaeLossOptions { SparsityCoefficient = 2 } };
        Assert.Equal(0.1, o.LearningRateAt(0), 12);
        Assert.Equal(1.0, o.LearningRateAt(9), 12);
        Assert.Equal(1.0, o.LearningRateAt(79), 12);
        Assert.Equal(20 / 20.0, o.LearningRateAt(80), 12);
        Assert.Equal(1 / 20.0, o.LearningRateAt(99), 12);
        Assert.Equal(0.5, o.SparsityAt(0), 12);
        Assert.Equal(2.0, o.SparsityAt(3), 12);
        Assert.Equal(2.0, o.SparsityAt(50), 12);
    }

    [Fact]
    public void DecoderRowsStayUnitAndProgressIsReported()
    {
        var data = new SyntheticSparseFeatures(96, 32, 3, seed: 4);
        var sae = Fresh("standard", Device.Cpu);
        var reports = new List<SaeTrainingProgress>();
        var progress = new SyncProgress(reports.Add);
        var o = Options("standard") with { ReportEvery = 5 };
        new SaeTrainer(sae, o).Train(data.Batches(64), progress);
        Assert.Equal([5L, 10, 15, 20], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.Equal(r.Step * 64, r.Tokens));
        Assert.All(reports, r => Assert.True(r.L0 > 0 && r.TokensPerSecond > 0 && r.Losses.ContainsKey("l1_loss")));
        Assert.All(sae.DecoderNorms().ToArray<float>(), n => Assert.Equal(1.0, n, 5));
    }

    [Fact]
    public void DeadLatentsAreThoseSilentForTheWindow()
    {
        var tracker = new DeadLatentTracker(3, windowTokens: 4);
        tracker.Update(Tensor.FromArray([1f, 0, 0, 0, 0, 0], 2, 3));  // latent 0 fires; 1, 2 age by 2
        tracker.Update(Tensor.FromArray([0f, 2, 0, 0, 0, 0], 2, 3));  // latent 1 fires; 0 ages to 2, 2 to 4
        Assert.Equal([2L, 0, 4], tracker.TokensSinceFired);
        Assert.Equal([false, false, true], tracker.Mask(Device.Cpu).ToArray<bool>());
        Assert.Equal(1 / 3.0, tracker.DeadFraction, 12);
    }

    [Fact]
    public void JumpReluL0FallsDuringTraining()
    {
        var data = new SyntheticSparseFeatures(96, 32, 3, seed: 6);
        var sae = Fresh("jumprelu", Device.Cpu);
        var trainer = new SaeTrainer(sae, Options("jumprelu") with { TotalSteps = 150, LearningRate = 5e-3, LrDecaySteps = 0, Loss = new SaeLossOptions { SparsityCoefficient = 0.05, JumpReluBandwidth = 0.05 } });
        var first = trainer.Step(data.Batch(0, 64));
        SaeTrainingProgress? last = trainer.Train(data.Batches(64, start: 1));
        Assert.True(last!.L0 < first.L0 * 0.5, $"L0 {first.L0} -> {last.L0}: the threshold did not learn");
        Assert.True(((JumpReluSae)sae).Threshold.Max().Item<float>() > 0.001f * 2, "thresholds never moved");
    }

    private sealed class SyncProgress(Action<SaeTrainingProgress> report) : IProgress<SaeTrainingProgress>
    {
        public void Report(SaeTrainingProgress value) => report(value);
    }
}
