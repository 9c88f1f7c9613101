// From a trained model to a circuit: train a 2-layer attention-only transformer on repeated random token blocks (as the
// InductionHeads sample does, here with per-head outputs and split inputs so every edge of the graph is hookable), then
// ask the causal instruments where the repeat is predicted: an activation-patching heatmap of the residual stream and
// of the heads, attribution patching and its agreement with the patching, and an EAP-IG circuit (top edges) with its
// faithfulness when only those edges carry the clean run.
// Clean prompts: [BOS] b b b b (one random block b of 10 tokens, repeated); corrupted: the first block replaced by other
// random tokens, so the first repeat (positions 11-20) cannot be copied from it. Metric: mean log-probability of the
// clean next token over the first repeat.
using MechInterp;
using MechInterp.Attribution;
using MechInterp.Circuits;
using MechInterp.Optim;
using MechInterp.Patching;

var device = args.Length > 0 ? Device.Parse(args[0]) : Device.Cpu;
int steps = args.Length > 1 ? int.Parse(args[1]) : 1500;
const int Vocab = 48, Length = 41, Period = 10, Batch = 32, Prompts = 16;

var config = new HookedTransformerConfig
{
    NLayers = 2, DModel = 64, NHeads = 4, DHead = 16, DVocab = Vocab, NCtx = Length, AttnOnly = true,
    NormalizationType = NormalizationType.LN, ModelName = "attn-only-2l", UseAttnResult = true, UseSplitQkvInput = true,
};
var model = new HookedTransformer(config, device);
model.InitWeights(new Generator(7));
model.SetRequiresGrad(true);
var optimizer = new AdamW(model.NamedParameters().Select(p => p.Parameter), learningRate: 3e-3, weightDecay: 0.01);
var schedule = LearningRateSchedule.Cosine(3e-3, steps, warmupSteps: 30, minRate: 3e-4);
var data = new Generator(42);

long[] Block(int h) => Enumerable.Range(0, h).Select(_ => data.NextInt64(1, Vocab)).ToArray();
Tensor Periodic(int batch, Func<int, int> period, Func<long[], long[]>? firstBlock = null, long[][]? blocks = null)
{
    var ids = new long[batch * Length];
    for (int b = 0; b < batch; b++)
    {
        int h = period(b);
        var block = blocks?[b] ?? Block(h);
        var first = firstBlock?.Invoke(block) ?? block;
        for (int t = 1; t < Length; t++) ids[b * Length + t] = t <= h ? first[t - 1] : block[(t - 1) % h];
    }
    return Tensor.FromArray(ids, batch, Length).To(device);
}

Console.WriteLine($"training {config.ModelName} for {steps} steps on {device}...");
for (int step = 0; step < steps; step++)
{
    using var scope = Tensor.Scope();
    schedule.Apply(optimizer);
    var loss = model.Forward(Periodic(Batch, _ => (int)data.NextInt64(5, 16)), new ForwardOptions { ReturnType = ReturnType.Loss });
    optimizer.ZeroGrad();
    loss.Backward();
    GradientClipping.ClipByNorm(optimizer.Tensors, 1.0);
    optimizer.Step();
    if (step % 250 == 0 || step == steps - 1) Console.WriteLine($"  step {step + 1}: loss {loss.Item<float>():F3}");
}
model.SetRequiresGrad(false);

var blocks = Enumerable.Range(0, Prompts).Select(_ => Block(Period)).ToArray();
var clean = Periodic(Prompts, _ => Period, blocks: blocks);
var corrupted = Periodic(Prompts, _ => Period, first => Block(first.Length), blocks);
// Metric: mean log p(clean next token) over the first repeat (queries at positions 10..19 predict tokens 11..20).
var pick = new float[Prompts * Length * Vocab];
var cleanIds = clean.ToArray<long>();
for (int b = 0; b < Prompts; b++)
    for (int q = Period; q < 2 * Period; q++) pick[(b * Length + q) * Vocab + cleanIds[b * Length + q + 1]] = 1f / (Prompts * Period);
var pickT = Tensor.FromArray(pick, Prompts, Length, Vocab).To(device);
Func<Tensor, Tensor> metric = logits => (logits.LogSoftmax(-1) * pickT).Sum();

var (cleanLogits, cleanCache) = model.RunWithCache(clean);
var (corruptedLogits, _) = model.RunWithCache(corrupted);
float cleanMetric = metric(cleanLogits).Item<float>(), corruptedMetric = metric(corruptedLogits).Item<float>();
Console.WriteLine($"\nmetric (mean log p of the first repeat): clean {cleanMetric:F3}, corrupted {corruptedMetric:F3}, uniform {-Math.Log(Vocab):F3}");

var resid = PatchingMetrics.Normalize(ActivationPatching.ResidPre(model, corrupted, cleanCache, metric), corruptedMetric, cleanMetric);
Console.WriteLine("\ndenoising hook_resid_pre, normalised (0 = corrupted, 1 = clean), positions 0-20:");
var r = resid.ToArray<float>();
for (int l = 0; l < config.NLayers; l++)
    Console.WriteLine($"  layer {l}: " + string.Join(" ", Enumerable.Range(0, 2 * Period + 1).Select(p => $"{r[l * Length + p],5:F2}")));
var heads = ActivationPatching.AttnHeadOutAllPos(model, corrupted, cleanCache, metric);
var headsNorm = PatchingMetrics.Normalize(heads, corruptedMetric, cleanMetric).ToArray<float>();
Console.WriteLine("\ndenoising each head's z at every position, normalised:");
for (int l = 0; l < config.NLayers; l++)
    Console.WriteLine($"  layer {l}: " + string.Join(" ", Enumerable.Range(0, config.NHeads).Select(h => $"H{h} {headsNorm[l * config.NHeads + h],5:F2}")));
var atp = AttributionPatching.AttnHeadOutAllPos(model, clean, corrupted, metric);
var agreement = AttributionAgreement.Compare(atp, heads, corruptedMetric, k: 3);
Console.WriteLine($"AtP vs patching of heads: Pearson r {agreement.PearsonR:F3}, top-3 overlap {agreement.TopKOverlap:F2}");

var scores = EdgeAttributionPatching.EapIg(model, clean, corrupted, metric, steps: 5);
int total = scores.Graph.EdgeCount;
Console.WriteLine($"\nEAP-IG over {total} edges; circuits of the top k edges (clean kept, the rest from the corrupted run):");
for (int k = 1; k <= total; k++)
{
    var top = scores.Top(k);
    var f = CircuitEvaluation.Evaluate(model, clean, corrupted, metric, top.Select(e => (e.Writer, e.Reader)));
    Console.WriteLine($"  k = {k,3} ({100.0 * k / total,4:F1}% of edges): faithfulness {f.Faithfulness:F3}   + {top[^1].From} → {top[^1].To} ({top[^1].Score:F3})");
    if (f.Faithfulness >= 0.8 || k >= 20) break;
}
