// The package smoke test's consumer: a fresh console app that references MechInterp.* by package version only.
// It loads a fixture checkpoint, checks the loss against the Hugging Face oracle stored next to it, caches every
// activation, and writes an attention view. Exit code 0 only when everything matched.
using System.Text.Json;
using MechInterp;
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

Console.WriteLine($"MechInterp packages {typeof(HookedTransformer).Assembly.GetName().Version} from {Path.GetFileName(typeof(HookedTransformer).Assembly.Location)}");
Console.WriteLine($"loss {loss:F6} (oracle {oracleLoss:F6}, |diff| {Math.Abs(loss - oracleLoss):E2}) {(lossOk ? "ok" : "MISMATCH")}");
Console.WriteLine($"cache: {cache.Count} hooks, logits [{string.Join(", ", logits.Shape)}], pattern [{string.Join(", ", pattern.Shape)}] {(shapesOk ? "ok" : "WRONG SHAPE")}");
Console.WriteLine($"attention view: {html} {(htmlOk ? "ok" : "MISSING")}");
return lossOk && shapesOk && htmlOk ? 0 : 1;
