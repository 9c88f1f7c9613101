using System.Text.Json.Nodes;
using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>Save writes SAELens's format (same keys, dtypes, shapes, cfg.json as SAELens's loaded config); save → load
/// is the identity; malformed folders fail with exceptions that name the field or tensor.</summary>
public sealed class SaeFilesTests : IDisposable
{
    private readonly string _tmp = Path.Combine(Path.GetTempPath(), "sae-files-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_tmp)) Directory.Delete(_tmp, recursive: true);
    }

    public static TheoryData<string> Folders()
    {
        var d = new TheoryData<string>();
        foreach (var f in SaeFixtures.Folders) d.Add(f);
        return d;
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void SavedFolderHasSaeLensKeysDtypesShapesAndConfig(string folder)
    {
        using var r = SaeFixtures.Reference(folder);
        var sae = Sae.Load(SaeFixtures.Dir(folder));
        string outDir = Path.Combine(_tmp, folder);
        sae.Save(outDir);

        using var saved = SafeTensorsFile.Open(Path.Combine(outDir, Sae.WeightsFileName));
        var want = r.Json.Get("sae", "sae_weights_safetensors");
        Assert.Equal(want.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), saved.Names.Order(StringComparer.Ordinal));
        foreach (var p in want.EnumerateObject())
        {
            var info = saved.GetInfo(p.Name);
            Assert.Equal(p.Value.GetProperty("dtype").GetString(), info.StoredDTypeName);
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), info.Shape);
        }
        Assert.Empty(saved.Metadata);

        // cfg.json equals the config SAELens has after loading the original folder (its to_dict()), except that the
        // dtype stays the one written (the oracle loaded the bf16 folder with a float32 override; we write bf16 back).
        var ours = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, Sae.ConfigFileName)));
        var theirs = JsonNode.Parse(r.Json.Get("sae", "loaded_cfg_to_dict").GetRawText())!;
        theirs["dtype"] = r.Json.Get("sae", "cfg_json_as_written", "dtype").GetString();
        Assert.True(JsonNode.DeepEquals(ours, theirs), $"{folder}: saved cfg.json {ours!.ToJsonString()} differs from SAELens's loaded config {theirs!.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(Folders))]
    public void SaveThenLoadIsIdentical(string folder)
    {
        using var scope = Tensor.Scope();
        var sae = Sae.Load(SaeFixtures.Dir(folder));
        string outDir = Path.Combine(_tmp, folder);
        sae.Save(outDir);
        var again = Sae.Load(outDir);
        Assert.Equal(sae.GetType(), again.GetType());
        Assert.Equal(SaeConfigJson.Write(sae.Config), SaeConfigJson.Write(again.Config));
        Assert.Equal(sae.Weights.Keys, again.Weights.Keys);
        foreach (var (name, p) in sae.Weights)
            Assert.Equal(p.Value.ToArray<float>(), again.Weights[name].Value.ToArray<float>());
        // The original file's bytes survive too (bf16 included).
        using var a = SafeTensorsFile.Open(Path.Combine(SaeFixtures.Dir(folder), Sae.WeightsFileName));
        using var b = SafeTensorsFile.Open(Path.Combine(outDir, Sae.WeightsFileName));
        foreach (var name in a.Names.Where(n => sae.Weights.ContainsKey(n)))
            Assert.Equal(a.Read(name, DType.Float64).ToArray<double>(), b.Read(name, DType.Float64).ToArray<double>());
    }

    private string Copy(string folder)
    {
        string dir = Path.Combine(_tmp, "bad-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        foreach (var f in new[] { Sae.ConfigFileName, Sae.WeightsFileName })
            File.Copy(Path.Combine(SaeFixtures.Dir(folder), f), Path.Combine(dir, f));
        return dir;
    }

    private SaeFormatException LoadWithCfg(string folder, Action<JsonObject> edit)
    {
        string dir = Copy(folder);
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, Sae.ConfigFileName)))!.AsObject();
        edit(cfg);
        File.WriteAllText(Path.Combine(dir, Sae.ConfigFileName), cfg.ToJsonString());
        return Assert.Throws<SaeFormatException>(() => Sae.Load(dir));
    }

    [Fact]
    public void MalformedConfigNamesTheField()
    {
        var e = LoadWithCfg("standard", c => c.Remove("d_in"));
        Assert.Equal("d_in", e.Item);
        Assert.Contains("missing", e.Message);
        e = LoadWithCfg("standard", c => c["d_sae"] = "256");
        Assert.Equal("d_sae", e.Item);
        Assert.Contains("positive integer", e.Message);
        e = LoadWithCfg("standard", c => c["normalize_activations"] = "batch_norm");
        Assert.Equal("normalize_activations", e.Item);
        Assert.Contains("layer_norm", e.Message);
        e = LoadWithCfg("standard", c => c["architecture"] = "mystery");
        Assert.Equal("architecture", e.Item);
        Assert.Contains("topk", e.Message);
        e = LoadWithCfg("standard", c => c["dtype"] = "int8");
        Assert.Equal("dtype", e.Item);
        e = LoadWithCfg("topk", c => c.Remove("k"));
        Assert.Equal("k", e.Item);
        e = LoadWithCfg("transcoder", c => c["apply_b_dec_to_input"] = true);
        Assert.Equal("apply_b_dec_to_input", e.Item);
        string dir = Copy("standard");
        File.WriteAllText(Path.Combine(dir, Sae.ConfigFileName), "{\"d_in\": 64,");
        Assert.Contains("not valid JSON", Assert.Throws<SaeFormatException>(() => Sae.Load(dir)).Message);
    }

    [Fact]
    public void MalformedWeightsNameTheTensor()
    {
        // A standard cfg over jumprelu weights: one tensor too many.
        var e = LoadWithCfg("jumprelu", c => c["architecture"] = "standard");
        Assert.Equal("threshold", e.Item);
        // A wider d_in than the tensors have: W_enc's shape is named with what was expected.
        e = LoadWithCfg("standard", c => c["d_in"] = 65);
        Assert.Equal("W_enc", e.Item);
        Assert.Contains("[65, 256]", e.Message);
        // A jumprelu cfg over standard weights: threshold is missing.
        e = LoadWithCfg("standard", c => c["architecture"] = "jumprelu");
        Assert.Equal("threshold", e.Item);
        Assert.Contains("missing", e.Message);
        // Pre-6.0 files: a scaling_factor of ones is dropped (as SAELens does); any other value is refused by name.
        foreach (var (value, loads) in new[] { (1f, true), (2f, false) })
        {
            string legacy = Copy("legacy-v5-standard");
            string file = Path.Combine(legacy, Sae.WeightsFileName);
            var tensors = new Dictionary<string, Tensor>();
            using (var st = SafeTensorsFile.Open(file))
                foreach (var n in st.Names) tensors[n] = st.Read(n);
            tensors["scaling_factor"] = Tensor.Full([256], value);
            SafeTensorsWriter.Write(file, tensors);
            if (loads) Assert.Equal(4, Sae.Load(legacy).Weights.Count);
            else Assert.Equal("scaling_factor", Assert.Throws<SaeFormatException>(() => Sae.Load(legacy)).Item);
        }
        string dir = Copy("standard");
        File.WriteAllBytes(Path.Combine(dir, Sae.WeightsFileName), [1, 2, 3]);
        Assert.Throws<SaeFormatException>(() => Sae.Load(dir));
        Assert.Throws<DirectoryNotFoundException>(() => Sae.Load(Path.Combine(_tmp, "nowhere")));
    }
}
