using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Models;

/// <summary>bert-tiny (BertForMaskedLM) against the Hugging Face transformers oracle, on both backends.</summary>
public sealed class BertParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Devices() => new() { "cpu", "torch-cpu" };

    private static HookedEncoder Load(FixtureReference r, string device) =>
        HookedEncoder.FromPretrained(r.Directory, new LoadOptions { Device = Device.Parse(device) });

    private void Check(string what, double diff, double tolerance, string device)
    {
        output.WriteLine($"bert-tiny {device} {what}: max |Δ| = {diff:E2}");
        Assert.True(diff <= tolerance, $"{what} differs by {diff:E2} (tolerance {tolerance:E0}) on {device}");
    }

    [Theory, MemberData(nameof(Devices))]
    public void LogitsHiddenStatesAndPatternsMatchTheOracle(string device)
    {
        using var r = new FixtureReference("bert-tiny");
        var model = Load(r, device);
        Assert.True(model.HasMlmHead);
        var tokens = r.Tensor("input_ids", model.Device);
        var options = new EncoderForwardOptions { TokenTypeIds = r.Tensor("token_type_ids", model.Device) };
        var (logits, cache) = model.RunWithCache(tokens, options: options);
        using (cache)
        {
            Check("logits", FixtureReference.MaxAbsDiff(logits, r.Tensor("logits")), 1e-4, device);
            Check("hidden_states.0 = hook_full_embed", FixtureReference.MaxAbsDiff(cache["hook_full_embed"], r.Tensor("hidden_states.0")), 1e-4, device);
            int n = model.Config.NLayers;
            for (int i = 1; i <= n; i++)
                Check($"hidden_states.{i} = blocks.{i - 1}.hook_normalized_resid_post",
                    FixtureReference.MaxAbsDiff(cache[$"blocks.{i - 1}.hook_normalized_resid_post"], r.Tensor($"hidden_states.{i}")), 1e-4, device);
            Check("last_block_output", FixtureReference.MaxAbsDiff(cache[$"blocks.{n - 1}.hook_normalized_resid_post"], r.Tensor("last_block_output")), 1e-4, device);
            for (int l = 0; l < n; l++)
                Check($"attentions.{l} = blocks.{l}.attn.hook_pattern", FixtureReference.MaxAbsDiff(cache[$"blocks.{l}.attn.hook_pattern"], r.Tensor($"attentions.{l}")), 1e-5, device);
            // The MLM transform's output is the LayerNorm's output (after weight and bias), TransformerLens's mlm_head.ln.hook_normalized.
            Check("mlm_head_transform_output = mlm_head.ln.hook_normalized", FixtureReference.MaxAbsDiff(cache["mlm_head.ln.hook_normalized"], r.Tensor("mlm_head_transform_output")), 1e-4, device);
            // Without a token-type tensor the forward uses type 0 everywhere, which is what the oracle used.
            Check("logits (default token types)", FixtureReference.MaxAbsDiff(model.Forward(tokens), r.Tensor("logits")), 1e-4, device);
        }
    }

    [Theory, MemberData(nameof(Devices))]
    public void MaskedLmLossMatchesTheOracle(string device)
    {
        using var r = new FixtureReference("bert-tiny");
        var model = Load(r, device);
        var tokens = r.Tensor("input_ids", model.Device);
        // reference.json loss_definition: HF labels=input_ids, not shifted, mean over all 24 positions.
        var loss = model.Forward(tokens, new EncoderForwardOptions { ReturnType = ReturnType.Loss }).Item<float>();
        Check("loss", Math.Abs(loss - r.Double("loss")), 1e-5, device);
        var perToken = model.Forward(tokens, new EncoderForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
        Check("per_token_loss", FixtureReference.MaxAbsDiff(perToken, r.Tensor("per_token_loss")), 1e-5, device);
    }

    [Theory, MemberData(nameof(Devices))]
    public void RightPaddedBatchMatchesOnRealTokens(string device)
    {
        using var r = new FixtureReference("bert-tiny");
        var model = Load(r, device);
        var tokens = r.Tensor("padded_input_ids", model.Device);
        var mask = r.Tensor("padded_attention_mask", model.Device);
        var logits = model.Forward(tokens, r.Tensor("token_type_ids", model.Device), mask);
        var maskValues = mask.To(Device.Cpu).ToArray<long>();
        var got = logits.To(Device.Cpu).ToArray<float>();
        var want = r.Tensor("padded_logits").ToArray<float>();
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
        Check("padded logits on real tokens", worst, 1e-4, device);
    }

    [Fact]
    public void HookNamesAreTransformerLensHookedEncoders()
    {
        using var r = new FixtureReference("bert-tiny");
        var model = Load(r, "cpu");
        string[] expected =
        [
            "hook_full_embed", "embed.hook_embed", "embed.hook_pos_embed", "embed.hook_token_type_embed",
            "embed.ln.hook_scale", "embed.ln.hook_normalized",
            "blocks.0.hook_resid_pre", "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
            "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z", "blocks.0.hook_attn_out",
            "blocks.0.hook_resid_mid", "blocks.0.ln1.hook_scale", "blocks.0.ln1.hook_normalized", "blocks.0.mlp.hook_pre",
            "blocks.0.mlp.hook_post", "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post", "blocks.0.ln2.hook_scale",
            "blocks.0.ln2.hook_normalized", "blocks.0.hook_normalized_resid_post", "mlm_head.ln.hook_scale", "mlm_head.ln.hook_normalized",
        ];
        foreach (var name in expected) Assert.True(model.HookDict.ContainsKey(name), $"missing hook {name}");
        Assert.Throws<UnknownHookException>(() => model.GetHookPoint("blocks.2.hook_resid_pre"));
        string[] parameters = ["embed.embed.W_E", "embed.pos_embed.W_pos", "embed.token_type_embed.W_token_type", "embed.ln.w", "blocks.1.attn.W_Q", "mlm_head.W", "mlm_head.ln.b", "unembed.W_U", "unembed.b_U"];
        var state = model.StateDict();
        foreach (var p in parameters) Assert.True(state.ContainsKey(p), $"missing parameter {p}");
        Assert.Equal([4L, 64, 16], state["blocks.0.attn.W_Q"].Shape);
    }

    [Fact]
    public void RunWithHooksAblationChangesLogitsAndStateDictRoundTrips()
    {
        using var r = new FixtureReference("bert-tiny");
        var model = Load(r, "cpu");
        var tokens = r.Tensor("input_ids");
        var clean = model.Forward(tokens);
        var ablated = model.RunWithHooks(tokens, ("blocks.1.attn.hook_pattern", (Func<Tensor, HookPoint, Tensor?>)((x, _) => Tensor.ZerosLike(x))));
        Assert.True(FixtureReference.MaxAbsDiff(clean, ablated) > 1e-2, "zeroing layer 1's attention pattern should change the logits");

        var copy = new HookedEncoder(model.Config, Device.Cpu, withMlmHead: true);
        copy.LoadStateDict(model.StateDict());
        Assert.True(FixtureReference.MaxAbsDiff(copy.Forward(tokens), r.Tensor("logits")) <= 1e-4);
    }
}
