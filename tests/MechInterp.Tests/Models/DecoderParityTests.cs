using Xunit;
namespace MechInterp.Tests.Models;

/// <summary>Every causal-LM fixture against the Hugging Face transformers oracle, on both backends.</summary>
public sealed class DecoderParityTests
{
    public static readonly string[] Models = ["gpt2-tiny", "pythia-tiny", "llama-tiny", "mistral-tiny", "gemma-tiny", "gemma2-tiny", "gptj-tiny", "neo-tiny", "opt-tiny", "phi-tiny"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in Models)
            foreach (var d in new[] { "cpu", "torch-cpu" }) data.Add(m, d);
        return data;
    }

    private static HookedTransformer Load(FixtureReference r, string device) =>
        HookedTransformer.FromPretrained(r.Directory, new LoadOptions { Device = Device.Parse(device) });

    [Theory, MemberData(nameof(Cases))]
    public void LogitsHiddenStatesAndPatternsMatchTheOracle(string name, string device)
    {
        using var r = new FixtureReference(name);
        var model = Load(r, device);
        var tokens = r.Tensor("input_ids", model.Device);
        var (logits, cache) = model.RunWithCache(tokens);
        using (cache)
        {
            Assert.True(FixtureReference.MaxAbsDiff(logits, r.Tensor("logits")) <= 1e-4, $"logits differ by {FixtureReference.MaxAbsDiff(logits, r.Tensor("logits")):E2}");
            int n = model.Config.NLayers;
            Assert.True(FixtureReference.MaxAbsDiff(cache["resid_pre", 0], r.Tensor("hidden_states.0")) <= 1e-4);
            for (int l = 1; l < n; l++)
                Assert.True(FixtureReference.MaxAbsDiff(cache["resid_post", l - 1], r.Tensor($"hidden_states.{l}")) <= 1e-4, $"hidden_states.{l}");
            Assert.True(FixtureReference.MaxAbsDiff(cache["resid_post", n - 1], r.Tensor("last_block_output")) <= 1e-4, "last_block_output");
            for (int l = 0; l < n; l++)
                Assert.True(FixtureReference.MaxAbsDiff(cache["pattern", l], r.Tensor($"attentions.{l}")) <= 1e-5, $"attentions.{l}: {FixtureReference.MaxAbsDiff(cache["pattern", l], r.Tensor($"attentions.{l}")):E2}");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void LossMatchesTheOracle(string name, string device)
    {
        using var r = new FixtureReference(name);
        var model = Load(r, device);
        var tokens = r.Tensor("input_ids", model.Device);
        var loss = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss }).Item<float>();
        Assert.True(Math.Abs(loss - r.Double("loss")) <= 1e-5, $"loss {loss} vs {r.Double("loss")}");
        var perToken = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
        Assert.True(FixtureReference.MaxAbsDiff(perToken, r.Tensor("per_token_loss")) <= 1e-5);
    }

    [Theory, MemberData(nameof(Cases))]
    public void GreedyGenerationMatchesTheOracle(string name, string device)
    {
        using var r = new FixtureReference(name);
        var model = Load(r, device);
        var prompt = Tensor.FromArray(r.Ints("greedy", "prompt"), 1, 4).To(model.Device);
        var expected = r.Ints("greedy", "full_sequence");
        foreach (var useCache in new[] { true, false })
        {
            var generated = model.Generate(prompt, new GenerateOptions { MaxNewTokens = 8, UseKvCache = useCache });
            Assert.Equal(expected, generated.ToArray<long>());
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void LeftPaddedBatchMatchesOnRealTokens(string name, string device)
    {
        using var r = new FixtureReference(name);
        var model = Load(r, device);
        var tokens = r.Tensor("padded_input_ids", model.Device);
        var mask = r.Tensor("padded_attention_mask", model.Device);
        var logits = model.Forward(tokens, new ForwardOptions { AttentionMask = mask });
        var expected = r.Tensor("padded_logits");
        var maskValues = mask.ToArray<long>();
        var got = logits.ToArray<float>();
        var want = expected.ToArray<float>();
        long vocab = logits.Shape[2], pos = logits.Shape[1];
        double worst = 0;
        for (long b = 0; b < logits.Shape[0]; b++)
            for (long p = 0; p < pos; p++)
            {
                if (maskValues[b * pos + p] == 0) continue;
                for (long v = 0; v < vocab; v++)
                {
                    long i = (b * pos + p) * vocab + v;
                    worst = Math.Max(worst, Math.Abs(got[i] - want[i]));
                }
            }
        Assert.True(worst <= 1e-4, $"padded logits differ by {worst:E2} on real tokens");
    }
}
