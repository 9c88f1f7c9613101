using MechInterp.Optim;
using MechInterp.Tests.Hooks;
using MechInterp.Training;
using MechInterp.Training.Datasets;
using Xunit;

namespace MechInterp.Tests.Training;

/// <summary>The trainer against a hand-written loop of the same optimizer, schedule and clipping, and its reporting
/// and checkpointing.</summary>
public sealed class TrainerTests
{
    private static HookedTransformer Tiny(ulong seed)
    {
        var model = new HookedTransformer(new HookedTransformerConfig
        {
            NLayers = 1, DModel = 16, NHeads = 2, DHead = 8, DMlp = 32, DVocab = 12, NCtx = 10, ActFn = "gelu",
        });
        model.InitWeights(new Generator(seed));
        return model;
    }

    [Fact]
    public void TrainerStepsEqualAHandWrittenLoop()
    {
        var data = new RepeatedTokenSequences(12, 10, 2, 4, batchSize: 4, RepeatLayout.Periodic);
        var options = new TrainerOptions { Steps = 12, LearningRate = 3e-3, WarmupSteps = 3, Decay = LearningRateDecay.Cosine, MinLearningRate = 1e-4, MaxGradNorm = 0.5, Seed = 9 };
        var trained = Tiny(1);
        var result = new Trainer(trained, options).Train(data);

        var manual = Tiny(1);
        manual.SetRequiresGrad(true);
        var optimizer = new AdamW(manual.NamedParameters().Select(p => p.Parameter), 3e-3, weightDecay: 0.01);
        var schedule = LearningRateSchedule.Cosine(3e-3, 12, 3, 1e-4);
        var generator = new Generator(9);
        var losses = new List<double>();
        for (int step = 0; step < 12; step++)
        {
            using var scope = Tensor.Scope();
            schedule.Apply(optimizer);
            var loss = manual.Forward(data.NextBatch(generator, Device.Cpu), new ForwardOptions { ReturnType = ReturnType.Loss });
            optimizer.ZeroGrad();
            loss.Backward();
            GradientClipping.ClipByNorm(optimizer.Tensors, 0.5);
            optimizer.Step();
            losses.Add(loss.To(DType.Float64).Item<double>());
        }
        manual.SetRequiresGrad(false);
        Assert.Equal(losses, result.Losses);
        var tokens = data.Sample(2, new Generator(4)).Tokens;
        HookTestUtil.Identical(trained.Forward(tokens), manual.Forward(tokens), "trained logits");
    }

    [Fact]
    public void ReportsProgressEvaluatesAndSavesALoadableCheckpoint()
    {
        var dir = Path.Combine(Path.GetTempPath(), "mechinterp-trainer-" + Guid.NewGuid().ToString("N"));
        try
        {
            var model = Tiny(2);
            var stream = Tensor.FromArray(Enumerable.Range(0, 500).Select(i => (long)(i % 12)).ToArray(), 500);
            var reports = new List<TrainingProgress>();
            var options = new TrainerOptions { Steps = 40, LearningRate = 1e-2, ReportEvery = 10, EvalEvery = 20, CheckpointDirectory = dir, CheckpointEvery = 20, Decay = LearningRateDecay.Linear };
            var heldOut = Tensor.FromArray(Enumerable.Range(3, 20).Select(i => (long)(i % 12)).ToArray(), 2, 10);
            var result = new Trainer(model, options).Train(new TokenTensorBatches(stream, 8, 10), new SyncProgress(reports),
                evaluate: m => m.Forward(heldOut, new ForwardOptions { ReturnType = ReturnType.Loss }).To(DType.Float64).Item<double>());
            Assert.Equal([10, 20, 30, 40], reports.Select(r => r.Step));
            Assert.All(reports, r => Assert.True(r.TokensPerSecond > 0 && r.GradNorm > 0));
            Assert.Equal([20, 40], result.Evaluations.Select(e => e.Step));
            // the sequence 0, 1, ..., 11, 0, ... is learnable: the loss falls well below uniform (ln 12 = 2.48)
            Assert.True(result.Losses[^1] < 0.5 * result.Losses[0], $"loss {result.Losses[0]:F3} -> {result.Losses[^1]:F3}");
            Assert.True(result.Evaluations[^1].Value < 1.0, $"held-out loss {result.Evaluations[^1].Value:F3}");
            Assert.True(Directory.Exists(Path.Combine(dir, "step-20")));
            using var loaded = HookedTransformer.FromPretrained(dir);
            HookTestUtil.Identical(loaded.Forward(heldOut), model.Forward(heldOut), "final checkpoint");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void SchedulesWarmUpThenDecay()
    {
        var cosine = LearningRateSchedule.Cosine(1.0, 110, 10, 0.1);
        var linear = LearningRateSchedule.Linear(1.0, 110, 10, 0.1);
        Assert.Equal(0.1, cosine.At(0), 12);                 // (s + 1) / warmup
        Assert.Equal(1.0, cosine.At(10), 12);
        Assert.Equal(0.1 + 0.45 * (1 + Math.Cos(Math.PI * 0.5)), cosine.At(60), 12);
        Assert.Equal(0.55, linear.At(60), 12);
        Assert.Equal(0.1, linear.At(110), 12);
        Assert.Throws<ArgumentException>(() => new Trainer(Tiny(1), new TrainerOptions { Steps = 5, WarmupSteps = 9 }));
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; a test needs the reports in order before it returns.</summary>
    private sealed class SyncProgress(List<TrainingProgress> sink) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => sink.Add(value);
    }
}
