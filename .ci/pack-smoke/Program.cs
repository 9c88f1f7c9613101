// The package smoke test's consumer: a fresh console app that references MechInterp.* by package version only.
// It loads a fixture checkpoint, checks the loss against the Hugging Face oracle stored next to it, caches every
// activation, writes an attention view, and runs one activation-patching sweep (resid_pre) checked against the
// patching oracle (Fixtures/patching/<fixture>) and against the identity that patching a run with its own cache
// changes nothing. Exit code 0 only when everything matched.
using System.Text.Json;
using MechInterp;
using MechInterp.Patching;
using MechInterp.Visualization;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: PackSmoke <fixture folder (e.g. tests/MechInterp.Tests/Fixtures/gpt2-tiny)> <output folder>");
    return 2;
}
string fixture = args[0], output = args[1];
using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture, "reference.json")));
double oracleLoss = reference.RootElement.GetProperty("loss").GetDouble();
long[] ids = reference.RootElement.GetProperty("input_ids").EnumerateArray()
    .SelectMany(row => row.EnumerateArray().Select(x => x.GetInt64())).ToArray();

var model = HookedTransformer.FromPretrained(fixture);
Tensor tokens = Tensor.FromArray(ids, 2, ids.Length / 2);                       // [batch, pos]
double loss = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss }).Item<float>();
var (logits, cache) = model.RunWithCache(tokens);
Tensor pattern = cache["pattern", 0];                                              // [batch, head, q, k]

bool lossOk = Math.Abs(loss - oracleLoss) <= 1e-4;
bool shapesOk = logits.Shape.SequenceEqual(new long[] { 2, 12, model.Config.DVocab })
    && pattern.Shape.SequenceEqual(new long[] { 2, model.Config.NHeads, 12, 12 });
string[] tokenStrings = Enumerable.Range(0, 12).Select(i => $"t{ids[i]}").ToArray();
string html = Path.Combine(output, "pack-smoke-attention.html");
new AttentionPatternView(tokenStrings, pattern[0], layer: 0).SaveHtml(html);
bool htmlOk = File.ReadAllText(html).Contains("data-mi-view=\"attention\"", StringComparison.Ordinal);

// Activation patching on the patching oracle's prompt pairs (Fixtures/patching/<fixture name>/reference.safetensors).
string fixtureDir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(fixture));
string patchingDir = Path.Combine(Path.GetDirectoryName(fixtureDir)!, "patching", Path.GetFileName(fixtureDir));
float[] oracleResidPre, oracleMetrics;
Tensor clean, corrupted;
Func<Tensor, Tensor> logitDiff;
using (var patchingReference = SafeTensorsFile.Open(Path.Combine(patchingDir, "reference.safetensors")))
{
    clean = patchingReference.Read("clean_tokens");                                  // [batch, pos]
    corrupted = patchingReference.Read("corrupted_tokens");                          // [batch, pos]
    logitDiff = PatchingMetrics.LogitDifference(patchingReference.ReadArray<long>("answer_tokens"), patchingReference.ReadArray<long>("wrong_tokens"));
    oracleResidPre = patchingReference.ReadArray<float>("denoise_resid_pre");       // [layer, pos], flattened
    oracleMetrics = [patchingReference.ReadArray<float>("clean_metric")[0], patchingReference.ReadArray<float>("corrupted_metric")[0]];
}
var (_, cleanCache) = model.RunWithCache(clean);
float[] residPre = ActivationPatching.ResidPre(model, corrupted, cleanCache, logitDiff).ToArray<float>();   // [layer, pos]
bool patchingOk = residPre.Length == oracleResidPre.Length                          // |x - ref| <= 1e-4 + 1e-4 |ref| (the oracle's tolerance)
    && residPre.Zip(oracleResidPre).All(p => Math.Abs(p.First - p.Second) <= 1e-4 + 1e-4 * Math.Abs(p.Second));
double patchDiff = residPre.Length == oracleResidPre.Length ? residPre.Zip(oracleResidPre, (a, b) => Math.Abs(a - b)).Max() : double.PositiveInfinity;
// Patching the clean run with its own activations leaves every cell at the clean metric.
float[] selfPatched = ActivationPatching.ResidPre(model, clean, cleanCache, logitDiff).ToArray<float>();
double selfDiff = selfPatched.Max(v => Math.Abs(v - oracleMetrics[0]));
bool selfOk = selfDiff <= 1e-4;

Console.WriteLine($"MechInterp packages {typeof(HookedTransformer).Assembly.GetName().Version} from {Path.GetFileName(typeof(HookedTransformer).Assembly.Location)}");
Console.WriteLine($"loss {loss:F6} (oracle {oracleLoss:F6}, |diff| {Math.Abs(loss - oracleLoss):E2}) {(lossOk ? "ok" : "MISMATCH")}");
Console.WriteLine($"cache: {cache.Count} hooks, logits [{string.Join(", ", logits.Shape)}], pattern [{string.Join(", ", pattern.Shape)}] {(shapesOk ? "ok" : "WRONG SHAPE")}");
Console.WriteLine($"attention view: {html} {(htmlOk ? "ok" : "MISSING")}");
Console.WriteLine($"resid_pre patching [{model.Config.NLayers}, 12] vs the patching oracle: max |diff| {patchDiff:E2} {(patchingOk ? "ok" : "MISMATCH")}");
Console.WriteLine($"self-patching gives the clean metric {oracleMetrics[0]:F6} everywhere: max |diff| {selfDiff:E2} {(selfOk ? "ok" : "MISMATCH")}");
return lossOk && shapesOk && htmlOk && patchingOk && selfOk ? 0 : 1;
