using MechInterp;
using MechInterp.Analysis;
using MechInterp.Patching;
using MechInterp.Training;
using MechInterp.Training.Datasets;
using MechInterp.Visualization;

namespace QuickStart;

/// <summary>A 2-layer attention-only transformer trained here on [BOS] + A + A + random filler (the recipe of
/// docs/reproductions.md), saved as a Hugging Face-style folder and reloaded with FromPretrained; then its induction
/// scores, zero-ablation effects, a patching heatmap and a logit-lens table.</summary>
internal static class InductionSection
{
    public const int Vocab = 64, Length = 48, Segment = 9;

    public static RepeatedTokenSequences Data { get; } = new(Vocab, Length, minSegment: 6, maxSegment: 17, batchSize: 32, heldOutSegments: [9, 14]);

    public static HookedTransformer LoadOrTrain(QuickStartOptions options, List<(string, string)> summary)
    {
        string dir = options.ModelDirectory;
        if (!options.Retrain && File.Exists(Path.Combine(dir, "config.json")))
        {
            summary.Add(("induction model", $"reused the checkpoint in {dir} (pass --retrain to train again)"));
            return HookedTransformer.FromPretrained(dir);
        }
        var config = new HookedTransformerConfig
        {
            NLayers = 2, DModel = 64, NHeads = 4, DHead = 16, DVocab = Vocab, NCtx = Length,
            AttnOnly = true, NormalizationType = NormalizationType.LN, ModelName = "attn-only-2l",
        };
        var model = new HookedTransformer(config);
        model.InitWeights(new Generator(1));
        var trainer = new Trainer(model, new TrainerOptions { Steps = options.TrainingSteps, LearningRate = 1e-3, WeightDecay = 0.01, WarmupSteps = 100, Seed = 5, ReportEvery = 25 });
        var result = ConsoleUi.WithProgress($"Training a 2-layer attention-only model ({options.TrainingSteps} steps)", update =>
            trainer.Train(Data, new ConsoleUi.Callback<TrainingProgress>(p => update((double)p.Step / p.TotalSteps, $"loss {p.Loss:F2}"))));
        Checkpoint.Save(model, dir);
        summary.Add(("induction model", $"trained {options.TrainingSteps} steps in {result.Elapsed.TotalSeconds:F0} s ({result.TokensPerSecond:F0} tokens/s), final loss {result.Losses[^1]:F3}; saved to {dir}"));
        // What the rest analyses is the reloaded checkpoint: the same logits as the trained model (FromPretrained round trip).
        return HookedTransformer.FromPretrained(dir);
    }

    public static void Analyse(HookedTransformer model, HtmlReport report, List<(string, string)> summary)
    {
        var c = model.Config;
        report.AddHeading("A 2-layer attention-only model trained here (induction heads)");
        var batch = Data.Sample(32, new Generator(99), segmentLength: Segment);
        var circuit = InductionCircuit.Measure(model, batch);
        report.AddParagraph($"Fresh sequences [BOS] + A + A + filler with |A| = {Segment}, a length never seen in training: loss {circuit.FirstSegmentLoss:F2} on the first copy (chance ln {Vocab - 1} = {Math.Log(Vocab - 1):F2}), {circuit.RepeatLoss:F2} on the repeat.");
        report.Add(new HeatmapView(ToTensor(circuit.InductionScores), MiniLmSection.Labels("L", c.NLayers), MiniLmSection.Labels("H", c.NHeads),
            "Induction scores per head (attention to the token after the earlier copy)", "induction score", "layer", "head"));
        var (il, ih, best) = MiniLmSection.ArgMax(ToTensor(circuit.InductionScores));
        summary.Add(("induction heads", $"best L{il}H{ih} {best:F2}; repeat loss {circuit.RepeatLoss:F2} vs first copy {circuit.FirstSegmentLoss:F2}; all layer-1 induction heads ablated: x{circuit.AllInductionHeadsAblatedRepeatLoss / circuit.RepeatLoss:F1}"));

        // One sequence, its attention, and what zero-ablating each head does to the loss on the repeat.
        var tokens = batch.Tokens[0..1];
        var words = Enumerable.Range(0, Length).Select(i => i == 0 ? "BOS" : $"t{tokens[0, i].Item<long>()}").ToArray();
        var (_, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            report.Add(new AttentionPatternView(words, cache["pattern", 1][0], layer: 1, title: "Layer-1 attention on one fresh sequence (hover a token)"));
            var lens = LogitLens.Run(cache);
            report.Add(LogitLensTable(lens, tokens, words, [Segment + 2, Segment + 4, Segment + 6]));
        }
        var repeatMask = batch.RepeatMask[0..1];
        Func<Tensor, Tensor> repeatLoss = logits => RepeatLoss(logits, tokens, repeatMask);
        var ablation = Ablation.ZeroHeads(model, tokens, repeatLoss); // [layers, heads]
        report.Add(new HeatmapView(ablation, MiniLmSection.Labels("L", c.NLayers), MiniLmSection.Labels("H", c.NHeads),
            "Loss on the repeat with one head's z zero-ablated", "repeat loss", "layer", "head"));

        // Denoising patching: corrupt the first copy's 4th token; does the model still predict it in the second copy?
        int changed = 4, predictAt = Segment + changed - 1; // the second copy's token before the changed one
        long cleanToken = tokens[0, changed].Item<long>(), wrongToken = 1 + cleanToken % (Vocab - 1);
        var ids = tokens.To(Device.Cpu).ToArray<long>();
        ids[changed] = wrongToken;
        var corrupted = Tensor.FromArray(ids, 1, Length);
        var metric = PatchingMetrics.LogitDifference([cleanToken], [wrongToken], predictAt);
        var (_, cleanCache) = model.RunWithCache(tokens);
        using (cleanCache)
        {
            var patched = ActivationPatching.ResidPre(model, corrupted, cleanCache, metric); // [layers, pos]
            var window = patched[.., 0..(2 * Segment + 2)];
            report.Add(new HeatmapView(window, MiniLmSection.Labels("L", c.NLayers), words[..(2 * Segment + 2)],
                $"Patching resid_pre from the clean sequence into one whose token {changed} was changed ({cleanToken} -> {wrongToken})",
                $"logit difference (clean - changed token) at position {predictAt}", "layer", "position"));
            summary.Add(("patching heatmap", $"resid_pre at the changed token, layer 0: {patched[0, changed].Item<float>():F2}; at the predicting position, layer 1: {patched[1, predictAt].Item<float>():F2}"));
        }
    }

    /// <summary>Mean next-token loss over the positions whose next token repeats an earlier one (the batch's RepeatMask).</summary>
    internal static Tensor RepeatLoss(Tensor logits, Tensor tokens, Tensor repeatMask)
    {
        long b = logits.Shape[0], p = logits.Shape[1];
        var logp = logits[.., 0..(int)(p - 1), ..].LogSoftmax(-1);                        // [batch, pos-1, vocab]
        var next = tokens[.., 1..].To(logits.Device).Expand(b, p - 1).Unsqueeze(-1);       // [batch, pos-1, 1]
        var nll = -logp.Gather(-1, next).Squeeze(-1);                                      // [batch, pos-1]
        var mask = repeatMask.To(logits.Device).To(nll.DType).Expand(b, p - 1);     // [batch, pos-1]: 1 where the next token repeats
        return (nll * mask).Sum() / mask.Sum();
    }

    private static TableView LogitLensTable(LogitLensResult lens, Tensor tokens, string[] words, int[] positions)
    {
        var rows = new List<IReadOnlyList<TableCell>>();
        foreach (int pos in positions)
        {
            var row = new List<TableCell> { $"{pos}: {words[pos]} -> next {words[pos + 1]}" };
            for (int layer = 0; layer < lens.Labels.Length; layer++)
            {
                var (token, probability) = lens.TopTokens(layer, 0, pos, 1)[0];
                row.Add(new TableCell(token == 0 ? "BOS" : $"t{token}", probability, $"top token after {lens.Labels[layer]}: p = {probability:F3}"));
            }
            rows.Add(row);
        }
        return new TableView(["position", .. lens.Labels], rows, "Logit lens: the top next-token guess read from each layer's residual stream");
    }

    private static Tensor ToTensor(double[,] values)
    {
        int r = values.GetLength(0), c = values.GetLength(1);
        var flat = new float[r * c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) flat[i * c + j] = (float)values[i, j];
        return Tensor.FromArray(flat, r, c);
    }
}
