#:project ../../src/MechInterp.Hooks/MechInterp.Hooks.csproj

// Activation steering (ActAdd / contrastive activation addition): the steering vector is the difference of the mean
// residual stream of two prompt sets at a middle layer, added at every position while the model generates.
//
//   dotnet run samples/scripts/steer-generation.cs                           # the gpt2-tiny test fixture (token ids)
//   dotnet run samples/scripts/steer-generation.cs -- gpt2 [coefficient]     # a model with a tokenizer (folder or HF-cache id)
//
// It also checks two identities and exits with 1 when one fails: steering with coefficient 0 generates exactly what
// the plain model does, and the steered generation is the same with and without the key/value cache.
using MechInterp;
using MechInterp.Analysis;

string? repo = null;
for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null && repo is null; d = d.Parent)
    if (File.Exists(Path.Combine(d.FullName, "MechInterp.sln"))) repo = d.FullName;
string modelId = args.Length > 0 ? args[0] : Path.Combine(repo ?? ".", "tests", "MechInterp.Tests", "Fixtures", "gpt2-tiny");
double coefficient = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;

var model = HookedTransformer.FromPretrained(modelId);
string hook = ActName.ResidPre(model.Config.NLayers / 2);
bool text = model.Tokenizer is not null;

// Positive and negative prompts, and the prompt to continue. Without a tokenizer: fixed token ids.
Tensor positive, negative, prompt;
if (text)
{
    positive = model.ToTokens("Love");                                                        // [1, pos]
    negative = model.ToTokens("Hate");
    prompt = model.ToTokens("I think that you are");
}
else
{
    positive = Tensor.FromArray(new long[] { 12, 40, 41, 12, 40, 42 }, 2, 3);                 // [batch, pos]
    negative = Tensor.FromArray(new long[] { 12, 300, 301, 12, 300, 302 }, 2, 3);
    prompt = Tensor.FromArray(new long[] { 498, 135, 96, 123, 307, 211 }, 1, 6);
}
string Show(Tensor tokens) => text ? model.ToString(tokens[0]) : string.Join(" ", tokens[0].ToArray<long>());

Tensor vector = Steering.MeanDifference(model, hook, positive, negative);                     // [d_model]
Console.WriteLine($"steering vector at {hook}: |v| = {vector.Norm(2, 0).Item<float>():F3}, coefficient {coefficient}");

var greedy = new GenerateOptions { MaxNewTokens = 16, DoSample = false };
Tensor plain = model.Generate(prompt, greedy);                                                 // [1, pos + new]
Tensor steered = Steering.Generate(model, prompt, hook, vector, coefficient, options: greedy);
Tensor steeredNewOnly = Steering.Generate(model, prompt, hook, vector, coefficient, newTokensOnly: true, options: greedy);
Console.WriteLine($"plain:                    {Show(plain)}");
Console.WriteLine($"steered (every position): {Show(steered)}");
Console.WriteLine($"steered (new tokens only): {Show(steeredNewOnly)}");

// Identities: coefficient 0 changes nothing; the cached and the uncached steered generations agree.
bool zeroOk = Steering.Generate(model, prompt, hook, vector, 0, options: greedy).ToArray<long>().SequenceEqual(plain.ToArray<long>());
bool cacheOk = Steering.Generate(model, prompt, hook, vector, coefficient, options: greedy with { UseKvCache = false })
    .ToArray<long>().SequenceEqual(steered.ToArray<long>());
Console.WriteLine($"coefficient 0 = plain generation: {(zeroOk ? "ok" : "MISMATCH")}; with and without the KV cache: {(cacheOk ? "ok" : "MISMATCH")}");
Console.WriteLine(steered.ToArray<long>().SequenceEqual(plain.ToArray<long>())
    ? "the steered text equals the plain one: try a larger coefficient"
    : "steering changed the generation");
return zeroOk && cacheOk ? 0 : 1;
