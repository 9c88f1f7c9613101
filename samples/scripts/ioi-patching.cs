#:project ../../src/MechInterp.Hooks/MechInterp.Hooks.csproj

// Activation patching on an IOI-style template set (Wang et al. 2022) with a model trained here. A synthetic
// "indirect object identification" language: [BOS] when A and B went to the shop , S gave a drink to -> IO, where
// A and B are two different names, the subject S repeats one of them and the answer IO is the other. A 2-layer
// attention-only transformer learns it (1,200 steps: about 3 minutes on 2 cores, 100% held-out accuracy); then, as in the IOI paper, the clean prompts are
// patched into prompts whose repeated name is the other one ("ABB" -> "ABA": the answer flips), and the logit
// difference IO - S at the last position is recovered site by site.
//
//   dotnet run samples/scripts/ioi-patching.cs [-- <training steps>]
//
// Prints accuracy, the clean and corrupted logit differences, resid_pre and per-head patching, and writes both
// heatmaps to ioi-patching.html. Exits with 1 when the model did not learn the task (accuracy < 0.9) or when an
// identity of patching fails (resid_pre patched at layer 0 at every position must give the clean metric exactly).
using MechInterp;
using MechInterp.Patching;
using MechInterp.Training;
using MechInterp.Visualization;

int steps = args.Length > 0 ? int.Parse(args[0]) : 1200;
const int Names = 16, FirstName = 1;            // name tokens 1..16
string[] words = ["when", "and", "went", "to", "the", "shop", ",", "gave", "a", "drink", "to"];
int Word(string w) => FirstName + Names + Array.IndexOf(words, w); // template tokens 17..27
int vocab = FirstName + Names + words.Length;

// One sequence: BOS when A and B went to the shop , S gave a drink to IO (16 tokens; a prompt is the first 15).
long[] Prompt(int a, int b, bool subjectIsB)
{
    int s = subjectIsB ? b : a, io = subjectIsB ? a : b;
    return [0, Word("when"), a, Word("and"), b, Word("went"), Word("to"), Word("the"), Word("shop"), Word(","), s,
            Word("gave"), Word("a"), Word("drink"), Word("to"), io];
}
var rng = new Random(7);
(int A, int B, bool S) Draw()
{
    int a = FirstName + rng.Next(Names), b;
    do b = FirstName + rng.Next(Names); while (b == a);
    return (a, b, rng.Next(2) == 1);
}
Tensor Batch(IEnumerable<(int A, int B, bool S)> items) { var rows = items.Select(i => Prompt(i.A, i.B, i.S)).ToArray(); return Tensor.FromArray(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length); }

var train = Batch(Enumerable.Range(0, 8192).Select(_ => Draw()));
int length = (int)train.Shape[1];
var config = new HookedTransformerConfig
{
    NLayers = 2, DModel = 64, NHeads = 4, DHead = 16, DVocab = vocab, NCtx = length, AttnOnly = true,
    NormalizationType = NormalizationType.LN, ModelName = "ioi-2l",
};
var model = new HookedTransformer(config);
model.InitWeights(new Generator(1));
Console.WriteLine($"training a 2-layer attention-only model on the IOI-style templates for {steps} steps...");
var result = new Trainer(model, new TrainerOptions { Steps = steps, LearningRate = 1e-3, WeightDecay = 0.01, WarmupSteps = 50, Seed = 3 })
    .Train(new TokenTensorBatches(train, batchSize: 64));
Console.WriteLine($"trained in {result.Elapsed.TotalSeconds:F0} s, final loss {result.Losses[^1]:F3}");

// Evaluation prompts: the answer is the last token; the model predicts it at the position before.
var pairs = Enumerable.Range(0, 64).Select(_ => Draw()).ToArray();
var clean = Batch(pairs);
var corrupted = Batch(pairs.Select(p => (p.A, p.B, !p.S)));     // the other name repeats: the answer flips
var prompts = clean[.., ..^1];                                     // [64, 15]: up to the last "to"
var corruptedPrompts = corrupted[.., ..^1];
long[] io = pairs.Select(p => (long)(p.S ? p.A : p.B)).ToArray();
long[] subject = pairs.Select(p => (long)(p.S ? p.B : p.A)).ToArray();
var metric = PatchingMetrics.LogitDifference(io, subject);        // mean over prompts of logit(IO) - logit(S), last position

using (GradMode.NoGrad())
{
    var logits = model.Forward(prompts);
    var predicted = logits[.., ^1, ..].ArgMax(-1).ToArray<long>();
    double accuracy = predicted.Zip(io).Count(t => t.First == t.Second) / (double)io.Length;
    double cleanMetric = metric(logits).Item<float>(), corruptedMetric = metric(model.Forward(corruptedPrompts)).Item<float>();
    Console.WriteLine($"held-out accuracy {accuracy:P0}; logit difference IO - S: clean {cleanMetric:F2}, corrupted {corruptedMetric:F2}");
    if (accuracy < 0.9) { Console.Error.WriteLine("the model did not learn the task: train longer"); return 1; }

    var (_, cleanCache) = model.RunWithCache(prompts);
    using (cleanCache)
    {
        var resid = ActivationPatching.ResidPre(model, corruptedPrompts, cleanCache, metric, new PatchingOptions { MetricPositions = [^1] });
        var heads = ActivationPatching.AttnHeadOutAllPos(model, corruptedPrompts, cleanCache, metric);
        var residRecovered = PatchingMetrics.Normalize(resid, corruptedMetric, cleanMetric);
        var headsRecovered = PatchingMetrics.Normalize(heads, corruptedMetric, cleanMetric);
        string[] tokens = ["BOS", "when", "A", "and", "B", "went", "to", "the", "shop", ",", "S", "gave", "a", "drink", "to"];
        Console.WriteLine("\nfraction of the logit difference recovered by patching resid_pre [layer x position]:");
        Console.WriteLine("        " + string.Concat(tokens.Select(t => $"{t,6}")));
        for (int l = 0; l < config.NLayers; l++)
            Console.WriteLine($"  L{l}    " + string.Concat(Enumerable.Range(0, tokens.Length).Select(p => $"{residRecovered[l, p].Item<float>(),6:F2}")));
        Console.WriteLine("\nby head output (hook_z at every position) [layer x head]:");
        for (int l = 0; l < config.NLayers; l++)
            Console.WriteLine($"  L{l}    " + string.Concat(Enumerable.Range(0, config.NHeads).Select(h => $"{headsRecovered[l, h].Item<float>(),7:F2}")));
        // Identity: patching every position of resid_pre at layer 0 turns the corrupted run into the clean one.
        var everything = model.RunWithHooks(corruptedPrompts, new HookSpec("blocks.0.hook_resid_pre", (_, _) => cleanCache["blocks.0.hook_resid_pre"]));
        double restored = metric(everything).Item<float>();
        if (Math.Abs(restored - cleanMetric) > 1e-4) { Console.Error.WriteLine($"identity failed: {restored} vs {cleanMetric}"); return 1; }
        new HtmlReport("IOI-style patching on a model trained here")
            .Add(new HeatmapView(residRecovered, ["L0", "L1"], tokens, "resid_pre patching (clean ABB into ABA)", "fraction recovered", "layer", "position"))
            .Add(new HeatmapView(headsRecovered, ["L0", "L1"], ["H0", "H1", "H2", "H3"], "head output patching", "fraction recovered", "layer", "head"))
            .SaveHtml("ioi-patching.html");
        Console.WriteLine($"\nidentity checked (layer-0 resid_pre everywhere gives the clean metric: {restored:F4}); heatmaps in {Path.GetFullPath("ioi-patching.html")}");
    }
}
return 0;
