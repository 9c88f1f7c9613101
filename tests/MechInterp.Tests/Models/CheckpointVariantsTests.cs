using System.Text.Json.Nodes;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>FromPretrained on checkpoint variants built from the fixtures: Qwen2 naming, sharded files, BF16 storage,
/// a bare GPT-2 without the "transformer." prefix, model ids in a Hugging Face cache, and refused inputs.</summary>
[Collection("HfEnvironment")]
public sealed class CheckpointVariantsTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("mechinterp-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private string CopyFixture(string name, string? into = null)
    {
        var dir = into ?? Path.Combine(_temp, name);
        Directory.CreateDirectory(dir);
        foreach (var f in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures", name)))
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return dir;
    }

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static Dictionary<string, Tensor> ReadAll(string file)
    {
        using var f = SafeTensorsFile.Open(file);
        return f.Names.ToDictionary(n => n, n => f.Read(n).DetachFromScopes());
    }

    private static double LogitsDiff(string dir, FixtureReference r)
    {
        var model = HookedTransformer.FromPretrained(dir);
        return FixtureReference.MaxAbsDiff(model.Forward(r.Tensor("input_ids")), r.Tensor("logits"));
    }

    [Fact]
    public void Qwen2WithZeroQkvBiasesEqualsLlamaAndNonZeroBiasesAreUsed()
    {
        using var r = new FixtureReference("llama-tiny");
        var dir = CopyFixture("llama-tiny");
        EditConfig(dir, c => { c["architectures"] = new JsonArray("Qwen2ForCausalLM"); c["model_type"] = "qwen2"; });
        var weights = ReadAll(Path.Combine(dir, "model.safetensors"));
        for (int l = 0; l < 2; l++)
            foreach (var (proj, size) in new[] { ("q_proj", 64L), ("k_proj", 32L), ("v_proj", 32L) })
                weights[$"model.layers.{l}.self_attn.{proj}.bias"] = Tensor.Zeros([size]);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), weights);
        var model = HookedTransformer.FromPretrained(dir);
        Assert.Equal("Qwen2ForCausalLM", model.Config.OriginalArchitecture);
        Assert.True(LogitsDiff(dir, r) <= 1e-4);

        weights["model.layers.0.self_attn.v_proj.bias"] = Tensor.Full([32], 0.5);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), weights);
        Assert.True(LogitsDiff(dir, r) > 1e-3, "a non-zero v bias must change the logits");
    }

    [Fact]
    public void ShardedCheckpointLoadsLikeTheSingleFile()
    {
        using var r = new FixtureReference("llama-tiny");
        var dir = CopyFixture("llama-tiny");
        var weights = ReadAll(Path.Combine(dir, "model.safetensors"));
        File.Delete(Path.Combine(dir, "model.safetensors"));
        var names = weights.Keys.Order(StringComparer.Ordinal).ToArray();
        var shards = new[] { names.Take(names.Length / 2).ToArray(), names.Skip(names.Length / 2).ToArray() };
        var map = new JsonObject();
        for (int s = 0; s < 2; s++)
        {
            var file = $"model-0000{s + 1}-of-00002.safetensors";
            SafeTensorsWriter.Write(Path.Combine(dir, file), shards[s].ToDictionary(n => n, n => weights[n]));
            foreach (var n in shards[s]) map[n] = file;
        }
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());
        Assert.True(LogitsDiff(dir, r) <= 1e-4);
    }

    [Fact]
    public void Bfloat16StorageLoadsAsTheSameFloat32Values()
    {
        var dir = CopyFixture("gpt2-tiny");
        var f32Dir = CopyFixture("gpt2-tiny", Path.Combine(_temp, "gpt2-f32-rounded"));
        var weights = ReadAll(Path.Combine(dir, "model.safetensors"));
        // Round every weight to bfloat16 by bit manipulation (round to nearest even), independently of the library.
        var rounded = weights.ToDictionary(kv => kv.Key, kv =>
        {
            var values = kv.Value.ToArray<float>().Select(v =>
            {
                uint bits = BitConverter.SingleToUInt32Bits(v);
                bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000;
                return BitConverter.UInt32BitsToSingle(bits);
            }).ToArray();
            return Tensor.FromArray(values, kv.Value.Shape);
        });
        SafeTensorsWriter.Write(Path.Combine(f32Dir, "model.safetensors"), rounded);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), rounded.ToDictionary(kv => kv.Key, kv => kv.Value.To(DType.BFloat16)));
        EditConfig(dir, c => c["torch_dtype"] = "bfloat16");
        using var r = new FixtureReference("gpt2-tiny");
        var a = HookedTransformer.FromPretrained(dir).Forward(r.Tensor("input_ids"));
        var b = HookedTransformer.FromPretrained(f32Dir).Forward(r.Tensor("input_ids"));
        Assert.Equal(0, FixtureReference.MaxAbsDiff(a, b));
    }

    [Fact]
    public void BareGpt2WithoutPrefixAndWithMaskBuffersLoads()
    {
        using var r = new FixtureReference("gpt2-tiny");
        var dir = CopyFixture("gpt2-tiny");
        var weights = ReadAll(Path.Combine(dir, "model.safetensors"));
        var bare = weights.ToDictionary(kv => kv.Key.Replace("transformer.", ""), kv => kv.Value);
        for (int l = 0; l < 2; l++) bare[$"h.{l}.attn.bias"] = Tensor.Ones([1, 1, 32, 32]).Tril();
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), bare);
        EditConfig(dir, c => c["architectures"] = new JsonArray("GPT2Model"));
        Assert.True(LogitsDiff(dir, r) <= 1e-4);
    }

    [Fact]
    public void ModelIdResolvesInTheHuggingFaceCacheAndReportsProgress()
    {
        var hub = Path.Combine(_temp, "hub");
        var snapshot = Path.Combine(hub, "models--tiny-org--gpt2-tiny", "snapshots", "0123abcd");
        CopyFixture("gpt2-tiny", snapshot);
        Directory.CreateDirectory(Path.Combine(hub, "models--tiny-org--gpt2-tiny", "refs"));
        File.WriteAllText(Path.Combine(hub, "models--tiny-org--gpt2-tiny", "refs", "main"), "0123abcd");
        var previous = Environment.GetEnvironmentVariable("HF_HUB_CACHE");
        try
        {
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", hub);
            var events = new List<LoadProgress>();
            var model = HookedTransformer.FromPretrained("tiny-org/gpt2-tiny", new LoadOptions { Progress = new SyncProgress(events.Add) });
            using var r = new FixtureReference("gpt2-tiny");
            Assert.True(FixtureReference.MaxAbsDiff(model.Forward(r.Tensor("input_ids")), r.Tensor("logits")) <= 1e-4);
            Assert.Equal("done", events[^1].Stage);
            Assert.Contains(events, e => e.Stage == "weights" && e.Done == e.Total);
            var missing = Assert.Throws<ModelNotFoundException>(() => HookedTransformer.FromPretrained("tiny-org/absent"));
            Assert.Contains(hub, missing.Message);
        }
        finally { Environment.SetEnvironmentVariable("HF_HUB_CACHE", previous); }
    }

    [Fact]
    public void PickleCheckpointsUnknownArchitecturesAndUnimplementedSwitchesAreRefused()
    {
        var pickle = Path.Combine(_temp, "pickle");
        Directory.CreateDirectory(pickle);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2-tiny", "config.json"), Path.Combine(pickle, "config.json"));
        File.WriteAllBytes(Path.Combine(pickle, "pytorch_model.bin"), [0x80, 0x02]);
        var unsafeError = Assert.Throws<UnsafeCheckpointFormatException>(() => HookedTransformer.FromPretrained(pickle));
        Assert.Contains("safe_serialization", unsafeError.Message);

        var unknown = CopyFixture("gpt2-tiny", Path.Combine(_temp, "unknown"));
        EditConfig(unknown, c => c["architectures"] = new JsonArray("MambaForCausalLM"));
        var arch = Assert.Throws<UnsupportedArchitectureException>(() => HookedTransformer.FromPretrained(unknown));
        Assert.Contains("MambaForCausalLM", arch.Message);
        Assert.Contains("LlamaForCausalLM", arch.Message);

        var scaled = CopyFixture("llama-tiny", Path.Combine(_temp, "scaled"));
        EditConfig(scaled, c => c["rope_scaling"] = new JsonObject { ["type"] = "dynamic", ["factor"] = 2.0 });
        var rope = Assert.Throws<NotSupportedException>(() => HookedTransformer.FromPretrained(scaled));
        Assert.Contains("rope_scaling", rope.Message);
    }

    private sealed class SyncProgress(Action<LoadProgress> report) : IProgress<LoadProgress>
    {
        public void Report(LoadProgress value) => report(value);
    }
}
