using MechInterp.Tests.Hooks;
using MechInterp.Training;
using Xunit;

namespace MechInterp.Tests.Training;

/// <summary>A saved folder loads back through FromPretrained with bit-identical logits.</summary>
public sealed class CheckpointTests
{
    private static string TempDir() => Path.Combine(Path.GetTempPath(), "mechinterp-ckpt-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void AttentionOnlyModelRoundTrips()
    {
        var config = new HookedTransformerConfig
        {
            NLayers = 2, DModel = 32, NHeads = 4, DHead = 8, DVocab = 40, NCtx = 16, AttnOnly = true,
            NormalizationType = NormalizationType.LN, ActFn = "relu",
        };
        var model = new HookedTransformer(config);
        model.InitWeights(new Generator(3));
        var dir = TempDir();
        try
        {
            Checkpoint.Save(model, dir);
            Assert.Contains("\"architectures\"", File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.Contains("\"attn_only\": true", File.ReadAllText(Path.Combine(dir, "config.json")));
            using var loaded = HookedTransformer.FromPretrained(dir);
            Assert.Equal(config with { ModelName = dir }, loaded.Config);
            var tokens = Tensor.FromArray(Enumerable.Range(0, 32).Select(i => (long)(i * 7 % 40)).ToArray(), 2, 16);
            HookTestUtil.Identical(loaded.Forward(tokens), model.Forward(tokens), "reloaded logits");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void FixtureModelWithMlpAndRotaryRoundTrips()
    {
        foreach (var fixture in new[] { "gpt2-tiny", "llama-tiny" })
        {
            var model = HookTestUtil.Shared(fixture);
            var dir = TempDir();
            try
            {
                Checkpoint.Save(model, dir);
                using var loaded = HookedTransformer.FromPretrained(dir);
                Assert.Equal(model.Config with { ModelName = dir, AttnTypes = null }, loaded.Config with { AttnTypes = null });
                var tokens = HookTestUtil.Input(fixture);
                HookTestUtil.Identical(loaded.Forward(tokens), model.Forward(tokens), $"{fixture} reloaded logits");
            }
            finally { Directory.Delete(dir, recursive: true); }
        }
    }

    [Fact]
    public void AMissingTensorIsNamed()
    {
        var model = new HookedTransformer(new HookedTransformerConfig { NLayers = 1, DModel = 8, NHeads = 2, DHead = 4, DVocab = 10, NCtx = 4, AttnOnly = true });
        model.InitWeights(new Generator(1));
        var dir = TempDir();
        try
        {
            Checkpoint.Save(model, dir);
            var state = model.StateDict();
            state.Remove("blocks.0.attn.W_Q");
            SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), state);
            var e = Assert.Throws<InvalidDataException>(() => HookedTransformer.FromPretrained(dir));
            Assert.Contains("blocks.0.attn.W_Q", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
