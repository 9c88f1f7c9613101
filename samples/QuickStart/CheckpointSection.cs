using MechInterp;
using MechInterp.Analysis;
using MechInterp.Patching;
using MechInterp.Visualization;

namespace QuickStart;

/// <summary>--model: the same analysis on any supported checkpoint (a folder, or a model id in the local Hugging Face
/// cache): induction scores on a repeated random sequence, that layer's attention, a logit-lens table and resid_pre
/// patching of a changed token.</summary>
internal static class CheckpointSection
{
    public static void Run(string pathOrId, HtmlReport report, List<(string, string)> summary)
    {
        var model = ConsoleUi.WithProgress($"Loading {pathOrId}", _ => HookedTransformer.FromPretrained(pathOrId));
        var c = model.Config;
        report.AddHeading($"{pathOrId}: {c.OriginalArchitecture ?? "decoder"}, {c.NLayers} layers, d_model {c.DModel}, {c.NHeads} heads");
        int segment = Math.Min(20, (c.NCtx - 1) / 2);
        var rng = new Generator(42);
        var half = Tensor.RandInt(1, Math.Min(c.DVocab, 20_000), [1, segment], rng);
        var tokens = Tensor.Concat([Tensor.Zeros([1, 1], DType.Int64), half, half], 1);   // [1, 1 + 2·segment]: BOS? + A + A
        var words = Enumerable.Range(0, (int)tokens.Shape[1]).Select(i => Word(model, tokens[0, i].Item<long>())).ToArray();
        var (_, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            var induction = HeadDetector.DetectHead(cache, tokens, HeadKind.Induction);      // [layers, heads]
            report.Add(new HeatmapView(induction, MiniLmSection.Labels("L", c.NLayers), MiniLmSection.Labels("H", c.NHeads),
                "Induction scores on a repeated random sequence", "induction score", "layer", "head"));
            var (layer, head, score) = MiniLmSection.ArgMax(induction);
            report.Add(new AttentionPatternView(words, cache["pattern", layer][0], layer: layer, title: $"Layer {layer} attention (best induction head H{head})"));
            summary.Add(("induction heads", $"best L{layer}H{head} {score:F2}"));
            var lens = LogitLens.Run(cache);
            var rows = Enumerable.Range(segment + 1, 3).Select(pos => (IReadOnlyList<TableCell>)
                [$"{pos}: {words[pos]}", .. Enumerable.Range(0, lens.Labels.Length).Select(l =>
                {
                    var (t, prob) = lens.TopTokens(l, 0, pos, 1)[0];
                    return new TableCell(Word(model, t), prob, $"p = {prob:F3}");
                })]).ToList();
            report.Add(new TableView(["position", .. lens.Labels], rows, "Logit lens in the repeated half"));
        }
        int changed = segment / 2, predictAt = segment + changed;
        long clean = tokens[0, changed + 1].Item<long>(), wrong = 1 + clean % (Math.Min(c.DVocab, 20_000) - 1);
        var ids = tokens.To(Device.Cpu).ToArray<long>();
        ids[changed + 1] = wrong;
        var corrupted = Tensor.FromArray(ids, 1, ids.Length);
        var (_, cleanCache) = model.RunWithCache(tokens);
        using (cleanCache)
        {
            var patched = ActivationPatching.ResidPre(model, corrupted, cleanCache, PatchingMetrics.LogitDifference([clean], [wrong]), // reads the last position it is given: MetricPositions hands it only predictAt
                new PatchingOptions { MetricPositions = [predictAt] });
            report.Add(new HeatmapView(patched, MiniLmSection.Labels("L", c.NLayers), words, "Patching resid_pre of a changed token in the first copy",
                $"logit difference at position {predictAt}", "layer", "position"));
            summary.Add(("patching", $"{c.NLayers} x {ids.Length} cells"));
        }
    }

    private static string Word(HookedTransformer model, long id)
    {
        if (model.Tokenizer is null) return $"t{id}";
        try { return model.ToStrTokens(Tensor.FromArray(new[] { id }, 1))[0]; }
        catch (ArgumentException) { return $"t{id}"; }
    }
}
