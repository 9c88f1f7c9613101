#:project ../../src/MechInterp.Saes/MechInterp.Saes.csproj

// Loads a SAELens-format SAE folder (cfg.json + sae_weights.safetensors), splices it into a model at the hook its
// cfg.json names, and reports what it does there: the SAE's hook points in the cache, reconstruction quality, the
// CE loss score, the latents most active at the last position, and the effect on the logits of switching the top
// one off through its hook.
//
//   dotnet run samples/scripts/load-sae-and-splice.cs                        # the test fixtures (gpt2-tiny + a SAELens SAE)
//   dotnet run samples/scripts/load-sae-and-splice.cs -- <sae folder> <model folder or id>
//
// With the fixtures it also checks Encode and the spliced logits against what SAELens and Hugging Face computed
// (reference.safetensors in the SAE folder) and exits with 1 on a mismatch.
using MechInterp;
using MechInterp.Saes;

string? repo = null;
for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null && repo is null; d = d.Parent)
    if (File.Exists(Path.Combine(d.FullName, "MechInterp.sln"))) repo = d.FullName;
string fixtures = Path.Combine(repo ?? ".", "tests", "MechInterp.Tests", "Fixtures");
string saeFolder = args.Length > 0 ? args[0] : Path.Combine(fixtures, "saes", "splice-gpt2-tiny");
string modelId = args.Length > 1 ? args[1] : Path.Combine(fixtures, "gpt2-tiny");
if (!Directory.Exists(saeFolder))
{
    Console.Error.WriteLine($"no SAE folder at {saeFolder}: run from inside the repository, or pass a SAELens folder and a model");
    return 2;
}

var model = HookedTransformer.FromPretrained(modelId);
var sae = Sae.Load(saeFolder, model.Device);
string hook = sae.Config.HookName ?? throw new InvalidOperationException($"{saeFolder}/cfg.json names no metadata.hook_name");
Console.WriteLine($"{sae.GetType().Name} {sae.Config.DIn} → {sae.Config.DSae} spliced at {hook} of {Path.GetFileName(modelId.TrimEnd('/'))}");

// Tokens: the fixture's own input when there is one, else a sentence (a model with a tokenizer) or random ids.
string referencePath = Path.Combine(saeFolder, "reference.safetensors");
SafeTensorsFile? reference = File.Exists(referencePath) ? SafeTensorsFile.Open(referencePath) : null;
Tensor tokens = reference is not null && reference.Contains("input_ids")
    ? reference.Read("input_ids", device: model.Device)                                       // [batch, pos]
    : model.Tokenizer is not null
        ? model.ToTokens("The cat sat on the mat because it was warm, and the dog lay down beside it.")
        : Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (long)((i * 7919 + 13) % model.Config.DVocab)).ToArray(), 1, 24);

var (logits, cache) = model.RunWithCacheWithSaes(tokens, [sae]);                              // logits [batch, pos, d_vocab]
Console.WriteLine("cache entries at the hook:");
foreach (var name in cache.Keys.Where(k => k.StartsWith(hook, StringComparison.Ordinal)))
    Console.WriteLine($"  {name,-48} [{string.Join(", ", cache[name].Shape)}]");

Tensor x = cache[hook];                                                                        // [batch, pos, d_in], before the SAE
var metrics = ReconstructionMetrics.Of(sae, x.Reshape(-1, sae.Config.DIn));
var fidelity = ModelFidelity.Measure(model, tokens, sae);
Console.WriteLine($"L0 {metrics.L0:F1}, explained variance {metrics.ExplainedVariance:F3}, cosine {metrics.CosineSimilarity:F3}; " +
                  $"loss clean {fidelity.LossClean:F4}, with SAE {fidelity.LossWithSae:F4}, zero-ablated {fidelity.LossZeroAblation:F4}, CE loss score {fidelity.CeLossScore:F3}");

// The latents most active at the last position of the first prompt.
Tensor acts = cache[$"{hook}.hook_sae_acts_post"];                                             // [batch, pos, d_sae]
float[] last = acts[0, ^1].To(Device.Cpu).ToArray<float>();                                    // [d_sae]
int[] top = Enumerable.Range(0, last.Length).OrderByDescending(i => last[i]).Take(5).ToArray();
Console.WriteLine("top latents at the last position: " + string.Join(", ", top.Select(i => $"{i} ({last[i]:F3})")));

// Switch the top latent off through the SAE's hook and see how far the last position's logits move.
int off = top[0];
var keep = Enumerable.Repeat(1f, sae.Config.DSae).ToArray();
keep[off] = 0;
Tensor mask = Tensor.FromArray(keep, sae.Config.DSae).To(model.Device);                        // [d_sae]
Tensor ablated;
using (model.WithSaes([sae]))
    ablated = model.RunWithHooks(tokens, new HookSpec($"{hook}.hook_sae_acts_post", (f, _) => f * mask));
double shift = (ablated[0, ^1] - logits[0, ^1]).Abs().Max().Item<float>();
Console.WriteLine($"latent {off} off: last-position logits move by up to {shift:F4}");

int status = 0;
if (reference is not null && reference.Contains("feature_acts") && reference.Contains("logits_spliced"))
{
    double Diff(Tensor ours, string name) => (ours.To(Device.Cpu) - reference.Read(name)).Abs().Max().Item<float>();
    double encodeDiff = Diff(sae.Encode(x), "feature_acts"), logitDiff = Diff(logits, "logits_spliced");
    bool ok = encodeDiff <= 1e-4 && logitDiff <= 1e-4;
    Console.WriteLine($"vs the SAELens/Hugging Face reference: Encode max |diff| {encodeDiff:E1}, spliced logits {logitDiff:E1} {(ok ? "ok" : "MISMATCH")}");
    status = ok ? 0 : 1;
}
reference?.Dispose();
return status;
