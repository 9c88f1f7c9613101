using System.Text.Json;
using Xunit;
using static MechInterp.Tests.Loading.LoadingTestSupport;

namespace MechInterp.Tests.Loading;

/// <summary>Single-file and sharded checkpoints behind one lookup; pickle checkpoints refused.</summary>
public class CheckpointFilesTests
{
    private static void WriteShards(TempDir dir, Dictionary<string, string>? weightMapOverride = null)
    {
        SafeTensorsWriter.Write(dir.File("model-00001-of-00002.safetensors"),
        [
            new SafeTensorsEntry("embed.weight", DType.Float32, [2, 2], new[] { 1f, 2f, 3f, 4f }),
            new SafeTensorsEntry("layers.0.w", DType.Float16, [3], new[] { (Half)0.5f, (Half)(-1f), (Half)2f }),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        SafeTensorsWriter.Write(dir.File("model-00002-of-00002.safetensors"),
        [
            new SafeTensorsEntry("layers.1.w", DType.BFloat16, [2], new ushort[] { 0x3F80, 0xC040 }),
            new SafeTensorsEntry("lm_head.weight", DType.Float32, [2], new[] { 9f, 10f }),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        var map = weightMapOverride ?? new Dictionary<string, string>
        {
            ["embed.weight"] = "model-00001-of-00002.safetensors",
            ["layers.0.w"] = "model-00001-of-00002.safetensors",
            ["layers.1.w"] = "model-00002-of-00002.safetensors",
            ["lm_head.weight"] = "model-00002-of-00002.safetensors",
        };
        File.WriteAllText(dir.File("model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = 34 }, weight_map = map }));
    }

    [Fact]
    public void ShardedCheckpointReadsThroughTheIndex()
    {
        using var dir = new TempDir();
        WriteShards(dir);
        using var ckpt = CheckpointFiles.Open(dir.Path);
        Assert.Equal(dir.File("model.safetensors.index.json"), ckpt.IndexPath);
        Assert.Equal(2, ckpt.Files.Count);
        Assert.Equal(new[] { "embed.weight", "layers.0.w", "layers.1.w", "lm_head.weight" }, ckpt.Names);
        Assert.EndsWith("model-00002-of-00002.safetensors", ckpt.FileOf("lm_head.weight").Path);
        var buf = new float[4];
        ckpt.ReadFloats("embed.weight", buf);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, buf);
        Assert.Equal(new long[] { 3 }, ckpt.GetInfo("layers.0.w").Shape);
        var f16 = new float[3];
        ckpt.ReadFloats("layers.0.w", f16);
        Assert.Equal(new[] { 0.5f, -1f, 2f }, f16);
        var bf16 = new float[2];
        ckpt.ReadFloats("layers.1.w", bf16);
        Assert.Equal(new[] { 1f, -3f }, bf16); // 0xC040 << 16 = -3.0f
        Assert.True(ckpt.Contains("layers.1.w"));
        var e = Assert.Throws<KeyNotFoundException>(() => ckpt.GetInfo("missing.w"));
        Assert.Contains("missing.w", e.Message);
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void ShardedTensorsMaterialise()
    {
        using var dir = new TempDir();
        WriteShards(dir);
        using var ckpt = CheckpointFiles.Open(dir.Path);
        using var t = ckpt.Read("layers.0.w");
        Assert.Equal(DType.Float32, t.DType);
        Assert.Equal(new[] { 0.5f, -1f, 2f }, t.ToArray<float>());
    }

    [Fact]
    public void MissingShardIsNamed()
    {
        using var dir = new TempDir();
        WriteShards(dir);
        File.Delete(dir.File("model-00002-of-00002.safetensors"));
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointFiles.Open(dir.Path));
        Assert.Contains("model-00002-of-00002.safetensors", e.Message);
        Assert.Contains("model.safetensors.index.json", e.Message);
    }

    [Fact]
    public void BadIndexesAreFormatErrors()
    {
        using (var dir = new TempDir())
        {
            WriteShards(dir, new Dictionary<string, string> { ["embed.weight"] = "model-00002-of-00002.safetensors" });
            var e = Assert.Throws<SafeTensorsFormatException>(() => CheckpointFiles.Open(dir.Path));
            Assert.Contains("embed.weight", e.Message);
            Assert.Contains("does not hold it", e.Message);
        }
        using (var dir = new TempDir())
        {
            WriteShards(dir, new Dictionary<string, string> { ["embed.weight"] = "../outside.safetensors" });
            var e = Assert.Throws<SafeTensorsFormatException>(() => CheckpointFiles.Open(dir.Path));
            Assert.Contains("not a plain file name", e.Message);
        }
        using (var dir = new TempDir())
        {
            WriteShards(dir);
            File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"weight_map\": [");
            var e = Assert.Throws<SafeTensorsFormatException>(() => CheckpointFiles.Open(dir.Path));
            Assert.Contains("model.safetensors.index.json", e.Message);
            File.WriteAllText(dir.File("model.safetensors.index.json"), "{\"metadata\": {}}");
            Assert.Contains("weight_map", Assert.Throws<SafeTensorsFormatException>(() => CheckpointFiles.Open(dir.Path)).Message);
        }
    }

    [Fact]
    public void SingleFileFixtureOpensFromDirectoryOrFile()
    {
        var model = Path.GetDirectoryName(Fixture("gpt2-tiny", "model.safetensors"))!;
        using var ckpt = CheckpointFiles.Open(model);
        Assert.Null(ckpt.IndexPath);
        Assert.Single(ckpt.Files);
        Assert.Contains("transformer.wte.weight", ckpt.Names);
        using var direct = CheckpointFiles.Open(Fixture("gpt2-tiny", "model.safetensors"));
        Assert.Equal(ckpt.Names, direct.Names);
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("model.pt")]
    [InlineData("last.ckpt")]
    [InlineData("weights.pth")]
    public void PickleCheckpointsAreRefusedWithConversionAdvice(string fileName)
    {
        using var dir = new TempDir();
        var path = dir.Write(fileName, [0x80, 0x02, 0x63]); // the bytes of a pickle protocol-2 GLOBAL opcode
        File.WriteAllText(dir.File("config.json"), "{}");
        foreach (var target in new[] { dir.Path, path })
        {
            var e = Assert.Throws<UnsafeCheckpointFormatException>(() => CheckpointFiles.Open(target));
            Assert.Equal(path, e.FilePath);
            Assert.Contains(fileName, e.Message);
            Assert.Contains("execute arbitrary code", e.Message);
            Assert.Contains("save_pretrained", e.Message);
            Assert.Contains("safe_serialization=True", e.Message);
            Assert.Contains("convert", e.Message);
        }
    }

    [Fact]
    public void EmptyOrMissingDirectories()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointFiles.Open(dir.Path));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains(dir.Path, e.Message);
        Assert.Throws<DirectoryNotFoundException>(() => CheckpointFiles.Open(dir.File("nope")));
    }
}
