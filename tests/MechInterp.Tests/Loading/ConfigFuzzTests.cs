using System.Diagnostics;
using System.Text.Json.Nodes;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Loading;

/// <summary>
/// config.json fuzzing: 1,002 seeded mutations of real fixture configs (dropped keys, wrong types, negative, zero and
/// huge sizes, heads that do not divide d_model, unknown activations, several at once) next to the real weights.
/// Every load either works (and then runs) or throws one of the loader's specific exceptions with a message that names
/// something — never a NullReference/IndexOutOfRange/InvalidCast/Overflow, never a hang, never a huge allocation.
/// Plus the three failures found when tried as a new user would: an empty token sequence, a config whose n_embd
/// disagrees with the weights, and a missing local directory.
/// </summary>
public sealed class ConfigFuzzTests
{
    private static readonly string[] Fixtures = ["gpt2-tiny", "llama-tiny", "pythia-tiny"];
    private static readonly JsonNode?[] Odd =
    [
        null, "x", true, JsonValue.Create(-1), JsonValue.Create(0), JsonValue.Create(1), JsonValue.Create(3), JsonValue.Create(1.5),
        JsonValue.Create(2147483647), JsonValue.Create(1e12), JsonValue.Create(-1e300), new JsonArray(), new JsonObject(), "relu_squared_typo",
    ];

    private static bool Allowed(Exception e) => e is InvalidDataException or ArgumentException or NotSupportedException
        or UnsupportedArchitectureException or SafeTensorsFormatException or FileNotFoundException;

    private static JsonObject Mutate(JsonObject original, Random rng)
    {
        var c = (JsonObject)original.DeepClone();
        int n = 1 + rng.Next(3);
        for (int i = 0; i < n; i++)
        {
            var keys = c.Select(kv => kv.Key).ToArray();
            var key = keys[rng.Next(keys.Length)];
            switch (rng.Next(4))
            {
                case 0: c.Remove(key); break;
                case 1: c[key] = Odd[rng.Next(Odd.Length)]?.DeepClone(); break;
                case 2: // heads that do not divide the width, or a width that does not match the weights
                    foreach (var k in new[] { "n_head", "num_attention_heads", "n_embd", "hidden_size", "num_key_value_heads" })
                        if (c.ContainsKey(k) && rng.Next(2) == 0) c[k] = 1 + rng.Next(97);
                    break;
                default:
                    foreach (var k in new[] { "activation_function", "hidden_act", "model_type" })
                        if (c.ContainsKey(k)) c[k] = "no_such_" + rng.Next(1000);
                    break;
            }
        }
        return c;
    }

    [Fact]
    public void MutatedConfigsFailOnlyWithSpecificExceptions()
    {
        var rng = new Random(20261202);
        var failures = new List<string>();
        int loaded = 0, refused = 0;
        var root = Directory.CreateTempSubdirectory("mi-config-fuzz-").FullName;
        try
        {
            foreach (var fixture in Fixtures)
            {
                var src = HookTestUtil.Dir(fixture);
                var original = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!;
                var dir = Path.Combine(root, fixture);
                Directory.CreateDirectory(dir);
                File.CreateSymbolicLink(Path.Combine(dir, "model.safetensors"), Path.Combine(src, "model.safetensors"));
                for (int i = 0; i < 334; i++)
                {
                    var mutated = Mutate(original, rng);
                    File.WriteAllText(Path.Combine(dir, "config.json"), mutated.ToJsonString());
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        using var model = HookedTransformer.FromPretrained(dir, new LoadOptions { ReleaseCachedMemory = false });
                        using var scope = Tensor.Scope();
                        using (GradMode.NoGrad()) model.Forward(Tensor.FromArray(new long[] { 0, 1, 2 }, 1, 3));
                        loaded++;
                    }
                    catch (Exception e) when (Allowed(e))
                    {
                        refused++;
                        if (e.Message.Length < 20) failures.Add($"{fixture} #{i}: {e.GetType().Name} with a vague message '{e.Message}'");
                    }
                    catch (Exception e)
                    {
                        failures.Add($"{fixture} #{i}: {e.GetType().Name}: {e.Message.Split('\n')[0]} — config {mutated.ToJsonString()[..Math.Min(300, mutated.ToJsonString().Length)]}");
                    }
                    long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                    if (clock.Elapsed > TimeSpan.FromSeconds(20)) failures.Add($"{fixture} #{i}: took {clock.Elapsed.TotalSeconds:F1} s");
                    if (allocated > 256L << 20) failures.Add($"{fixture} #{i}: allocated {allocated >> 20} MiB for a {new FileInfo(Path.Combine(src, "model.safetensors")).Length >> 10} KiB checkpoint");
                }
            }
        }
        finally { Directory.Delete(root, recursive: true); }
        Assert.True(failures.Count == 0, $"{failures.Count} bad outcomes ({loaded} loaded, {refused} refused):\n" + string.Join("\n", failures.Take(15)));
        Assert.True(refused > 500, $"only {refused} of 1002 mutations were refused: the mutations are too gentle to test anything");
    }

    [Fact]
    public void AnEmptyTokenSequenceIsRefusedByName()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var e = Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros([1, 0], DType.Int64)));
        Assert.Contains("token sequence is empty", e.Message);
    }

    [Fact]
    public void AConfigWhoseWidthDisagreesWithTheWeightsNamesTheFields()
    {
        var dir = Directory.CreateTempSubdirectory("mi-config-width-").FullName;
        try
        {
            var src = HookTestUtil.Dir("gpt2-tiny");
            var config = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(src, "config.json")))!;
            config["n_embd"] = 65; config["n_head"] = 5; // 65 = 5 × 13: a valid config, wrong for these weights
            File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
            File.CreateSymbolicLink(Path.Combine(dir, "model.safetensors"), Path.Combine(src, "model.safetensors"));
            var e = Assert.Throws<InvalidDataException>(() => HookedTransformer.FromPretrained(dir));
            Assert.Contains("d_model 65", e.Message);
            Assert.Contains("config.json", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("./no/such/model")]
    [InlineData("/tmp/definitely-not-here-20261202")]
    [InlineData("models/gpt2/checkpoint")]
    public void AMissingLocalDirectoryIsReportedAsADirectory(string path)
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => HookedTransformer.FromPretrained(path));
        Assert.Contains("does not exist", e.Message);
        Assert.Contains(path, e.Message);
    }
}
