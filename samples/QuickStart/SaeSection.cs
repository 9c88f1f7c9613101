using MechInterp;
using MechInterp.Saes;
using MechInterp.Visualization;

namespace QuickStart;

/// <summary>A TopK sparse autoencoder trained on the induction model's layer-0 residual stream, its reconstruction
/// quality and model fidelity, and the dashboards of a few latents (top contexts, activation histogram, logit effects).</summary>
internal static class SaeSection
{
    private const string Hook = "blocks.0.hook_resid_post";

    public static void Run(HookedTransformer model, HtmlReport report, List<(string, string)> summary)
    {
        var data = InductionSection.Data;
        var trainTokens = data.Sample(512, new Generator(7)).Tokens;  // [512, 48]: 24,576 tokens
        var config = new SaeConfig { Architecture = "topk", DIn = model.Config.DModel, DSae = 256, K = 8 };
        config.Metadata["hook_name"] = Hook;
        var sae = SaeInitialization.Create(config, new Generator(3));
        const int Steps = 600;
        var store = new ActivationStore(model, trainTokens, [Hook], new ActivationStoreOptions { BatchTokens = 1024, SequencesPerPass = 64, ExcludeFirstPositions = 1 });
        var trainer = new SaeTrainer(sae, new SaeTrainerOptions { TotalSteps = Steps, LearningRate = 1e-3, LrWarmupSteps = 50, NormalizeDecoder = true, ReportEvery = 20 });
        var last = ConsoleUi.WithProgress($"Training a TopK SAE (k 8, 256 latents) on {Hook}", update =>
            trainer.Train(Batches(store, Steps), new ConsoleUi.Callback<SaeTrainingProgress>(p => update((double)p.Step / Steps, $"L0 {p.L0:F1}"))));

        var eval = data.Sample(64, new Generator(11));
        var (_, cache) = model.RunWithCache(eval.Tokens, n => n == Hook);
        using (cache)
        {
            var x = cache[Hook].Reshape(-1, model.Config.DModel);                 // [tokens, d_model]
            var metrics = ReconstructionMetrics.Of(sae, x);
            var fidelity = ModelFidelity.Measure(model, eval.Tokens, sae);
            report.AddHeading($"A TopK sparse autoencoder on {Hook}");
            report.AddParagraph($"Trained for {Steps} steps of 1,024 activations from the model above. On fresh sequences: L0 {metrics.L0:F2}, explained variance {metrics.ExplainedVariance:F3}, cosine similarity {metrics.CosineSimilarity:F3}; CE loss score {fidelity.CeLossScore:F3} (1 = as good as the clean model, 0 = as bad as zero-ablating the hook).");
            summary.Add(("SAE", $"L0 {metrics.L0:F2}, explained variance {metrics.ExplainedVariance:F3}, CE loss score {fidelity.CeLossScore:F3}"));

            var acts = sae.Encode(cache[Hook]);                                     // [batch, pos, d_sae]
            var flat = acts.To(Device.Cpu).ToArray<float>();
            long b = acts.Shape[0], p = acts.Shape[1], d = acts.Shape[2];
            var firing = Enumerable.Range(0, (int)d).Select(j => (Latent: j, Count: CountFiring(flat, b * p, d, j))).ToArray();
            var effects = sae.WDec.MatMul(model.W_U).To(Device.Cpu);                // [d_sae, d_vocab]
            foreach (var (latent, count) in firing.Where(f => f.Count > 0).OrderByDescending(f => f.Count).Take(3))
                report.Add(new SaeLatentDashboard(Record(latent, count, flat, b, p, d, eval.Tokens, effects)));
        }
        _ = last;
    }

    private static IEnumerable<Tensor> Batches(ActivationStore store, int steps)
    {
        int n = 0;
        while (true)
            foreach (var batch in store.Batches())
            {
                if (n++ >= steps) yield break;
                yield return batch[Hook];
            }
    }

    private static int CountFiring(float[] acts, long rows, long d, int latent)
    {
        int count = 0;
        for (long r = 0; r < rows; r++) if (acts[r * d + latent] > 0) count++;
        return count;
    }

    private static SaeLatentRecord Record(int latent, int count, float[] acts, long b, long p, long d, Tensor tokens, Tensor effects)
    {
        var ids = tokens.To(Device.Cpu).ToArray<long>();
        string Word(long id) => id == 0 ? "BOS" : $"t{id}";
        var top = Enumerable.Range(0, (int)(b * p)).OrderByDescending(r => acts[r * d + latent]).Take(5).ToArray();
        var contexts = top.Select(r =>
        {
            long row = r / p, pos = r % p, from = Math.Max(0, pos - 6), to = Math.Min(p - 1, pos + 3);
            var span = Enumerable.Range((int)from, (int)(to - from + 1));
            return new ActivatingContext(span.Select(i => Word(ids[row * p + i])).ToArray(), span.Select(i => (double)acts[(row * p + i) * d + latent]).ToArray());
        }).ToArray();
        var samples = Enumerable.Range(0, (int)(b * p)).Select(r => (double)acts[r * d + latent]).Where(v => v > 0);
        var row = effects[latent].ToArray<float>();
        var order = Enumerable.Range(0, row.Length).OrderByDescending(t => row[t]).ToArray();
        return new SaeLatentRecord(latent, contexts, ActivationHistogram.FromSamples(samples, 20),
            order.Take(5).Select(t => new LogitEffect(Word(t), row[t])).ToArray(),
            order.Reverse().Take(5).Select(t => new LogitEffect(Word(t), row[t])).ToArray(),
            (double)count / (b * p), Hook);
    }
}
