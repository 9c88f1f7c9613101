using MechInterp.Saes;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>The activation store on gpt2-tiny: batches hold exactly the model's activations at the kept positions,
/// shuffled alike across hooks; several SAEs (and a transcoder) train from one pass of the model.</summary>
public class ActivationStoreTests
{
    private static Tensor Tokens(int sequences, int positions, ulong seed) =>
        Tensor.RandInt(1, 512, [sequences, positions], new Generator(seed));

    [Fact]
    public void BatchesAreTheModelsActivationsAtKeptPositionsShuffledAlikeAcrossHooks()
    {
        using var scope = Tensor.Scope();
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = Tokens(10, 12, 3);
        const string r0 = "blocks.0.hook_resid_post", a1 = "blocks.1.hook_attn_out", m1 = "blocks.1.hook_mlp_out", r1 = "blocks.1.hook_resid_post";
        var store = new ActivationStore(model, tokens, [r0, a1, m1, r1], new ActivationStoreOptions
        {
            BatchTokens = 16, SequencesPerPass = 4, ExcludeFirstPositions = 1, ExcludeTokenIds = [7], ShuffleBufferBatches = 3, Seed = 9,
        });
        var batches = store.Batches().ToList();
        Assert.Equal(3, store.Passes); // 10 sequences, 4 per pass

        var ids = tokens.ToArray<long>();
        long kept = Enumerable.Range(0, ids.Length).Count(i => i % 12 != 0 && ids[i] != 7);
        Assert.Equal(kept / 16, batches.Count);
        Assert.All(batches, b => Assert.Equal([16L, 64], b[r1].Shape));
        // Row alignment across hooks: resid_post(0) + attn_out(1) + mlp_out(1) == resid_post(1) row by row.
        foreach (var b in batches) SaeFixtures.Close(b[r0] + b[a1] + b[m1], b[r1], 1e-4, 0, "rows aligned across hooks");

        // Every emitted row is one of the model's activations at a kept position (and no row comes twice).
        var (_, cache) = model.RunWithCache(tokens, [r1]);
        var all = cache[r1].Reshape(-1, 64).ToArray<float>();
        var keptRows = Enumerable.Range(0, ids.Length).Where(i => i % 12 != 0 && ids[i] != 7).ToHashSet();
        var seen = new HashSet<int>();
        foreach (var b in batches)
        {
            var rows = b[r1].ToArray<float>();
            for (int r = 0; r < 16; r++)
            {
                int match = keptRows.First(k => Enumerable.Range(0, 64).All(c => Math.Abs(all[k * 64 + c] - rows[r * 64 + c]) < 1e-4f));
                Assert.True(seen.Add(match), $"row {match} emitted twice");
            }
        }
        // Shuffled: the first batch is not simply the first kept positions in order.
        Assert.NotEqual(keptRows.Order().Take(16), seen.Take(16));
    }

    [Fact]
    public void SeveralSaesAndATranscoderTrainFromOnePass()
    {
        using var scope = Tensor.Scope();
        var model = HookTestUtil.Load("gpt2-tiny");
        int passes = 0;
        using var counter = model.HookRegistry.AddHook("hook_embed", (x, _) => { passes++; return null; });
        var tokens = Tokens(24, 12, 4);
        SaeConfig Cfg(string arch, string hook, int dSae, int? k = null, string? outHook = null, int? dOut = null)
        {
            var c = new SaeConfig { Architecture = arch, DIn = 64, DSae = dSae, K = k, RescaleActsByDecoderNorm = k is null ? null : true, DOut = dOut, ApplyBDecToInput = outHook is null };
            c.Metadata["hook_name"] = hook;
            if (outHook is not null) c.Metadata["hook_name_out"] = outHook;
            return c;
        }
        var options = new SaeTrainerOptions { TotalSteps = 1000, LearningRate = 1e-3, ReportEvery = 1 };
        var jobs = new[]
        {
            SaeTrainingJob.For(new SaeTrainer(SaeInitialization.Create(Cfg("standard", "blocks.0.hook_resid_post", 128), new Generator(1)), options)),
            SaeTrainingJob.For(new SaeTrainer(SaeInitialization.Create(Cfg("topk", "blocks.1.hook_resid_post", 256, k: 8), new Generator(2)), options)),
            SaeTrainingJob.For(new SaeTrainer(SaeInitialization.Create(Cfg("transcoder", "blocks.1.ln2.hook_normalized", 128, outHook: "blocks.1.hook_mlp_out", dOut: 64), new Generator(3)), options)),
        };
        var store = MultiSaeTraining.StoreFor(model, tokens, jobs, new ActivationStoreOptions { BatchTokens = 32, SequencesPerPass = 8, ShuffleBufferBatches = 2 });
        var reports = new List<(int Job, SaeTrainingProgress P)>();
        MultiSaeTraining.Train(store, jobs, new Progress(reports.Add));
        Assert.Equal(3, passes);                           // 24 sequences, 8 per pass: one pass serves all three
        int steps = 24 * 12 / 32;
        Assert.All(jobs, j => Assert.Equal(steps, j.Trainer.StepCount));
        Assert.Equal(3 * steps, reports.Count);
        Assert.All(reports, r => Assert.True(double.IsFinite(r.P.Loss)));
        Assert.Equal(64, jobs[2].Trainer.Sae.Config.OutputWidth);
    }

    [Fact]
    public void ShardsOnDiskGiveBackTheSameBatches()
    {
        using var scope = Tensor.Scope();
        var model = HookTestUtil.Shared("gpt2-tiny");
        var tokens = Tokens(6, 12, 5);
        var options = new ActivationStoreOptions { BatchTokens = 16, SequencesPerPass = 3, Seed = 2 };
        string[] hooks = ["blocks.0.hook_resid_post", "blocks.1.attn.hook_z"];
        string dir = Path.Combine(Path.GetTempPath(), "shards-" + Guid.NewGuid().ToString("N"));
        try
        {
            int written = ActivationShards.Write(new ActivationStore(model, tokens, hooks, options), dir);
            var direct = new ActivationStore(model, tokens, hooks, options).Batches().ToList();
            var read = ActivationShards.Read(dir).ToList();
            Assert.Equal(direct.Count, written);
            Assert.Equal(direct.Count, read.Count);
            for (int i = 0; i < read.Count; i++)
                foreach (var h in hooks) Assert.Equal(direct[i][h].ToArray<float>(), read[i][h].ToArray<float>());
            Assert.Equal([16L, 64], read[0]["blocks.1.attn.hook_z"].Shape); // hook_z flattened to n_heads · d_head
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private sealed class Progress(Action<(int, SaeTrainingProgress)> report) : IProgress<(int, SaeTrainingProgress)>
    {
        public void Report((int, SaeTrainingProgress) value) => report(value);
    }
}
