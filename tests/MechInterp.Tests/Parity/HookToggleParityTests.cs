using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>TransformerLens's set_use_* switches: the optional hook points appear and disappear at run time, hold
/// what their definition says (checked through identities with the always-present hooks), and never change the logits.</summary>
public sealed class HookToggleParityTests
{
    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void TogglesAddAndRemoveHookPointsWithoutChangingTheOutput(string fixture)
    {
        var model = HookTestUtil.Load(fixture);
        var input = HookTestUtil.Input(fixture);
        var plain = model.Forward(input);
        Assert.DoesNotContain("blocks.0.attn.hook_result", model.HookDict.Keys);

        model.SetUseAttnResult(true);
        model.SetUseSplitQkvInput(true);
        model.SetUseHookMlpIn(true);
        Assert.True(model.Config.UseAttnResult && model.Config.UseSplitQkvInput && model.Config.UseHookMlpIn);
        var keys = model.HookDict.Keys.ToList();
        Assert.Equal(keys.IndexOf("blocks.1.attn.hook_pattern") + 1, keys.IndexOf("blocks.1.attn.hook_result"));
        Assert.Equal(keys.IndexOf("blocks.0.hook_resid_pre") + 1, keys.IndexOf("blocks.0.hook_q_input"));
        var (logits, cache) = model.RunWithCache(input);
        using (cache)
        {
            HookTestUtil.Close(logits, plain, 1e-5, "logits with every optional hook on");
            for (int l = 0; l < 2; l++)
            {
                HookTestUtil.Close(cache["result", l].Sum(2) + model.Blocks[l].Attn.b_O, cache["attn_out", l], 1e-5, $"layer {l}: heads + b_O = attn_out");
                var residPre = cache["resid_pre", l]; // [2, 12, 64]
                HookTestUtil.Identical(cache[$"blocks.{l}.hook_q_input"].Select(2, 3), residPre, $"layer {l}: q input of head 3");
                Assert.Equal([2L, 12, model.Config.KvHeads, 64], cache[$"blocks.{l}.hook_k_input"].Shape);
                HookTestUtil.Identical(cache[$"blocks.{l}.hook_mlp_in"], cache["resid_mid", l], $"layer {l}: mlp_in = resid_mid");
            }
        }
        Assert.Throws<InvalidOperationException>(() => model.SetUseAttnIn(true)); // exclusive with the split inputs

        // Zeroing one head's key input changes the output: the hooks are on the live path.
        var edited = model.RunWithHooks(input, new HookSpec("blocks.0.hook_k_input", (k, h) => k * 0.0));
        Assert.True(HookTestUtil.MaxAbsDiff(edited, plain) > 1e-3);

        model.SetUseSplitQkvInput(false);
        model.SetUseAttnIn(true);
        using (var withAttnIn = model.RunWithCache(input, n => n.EndsWith("hook_attn_in", StringComparison.Ordinal)).Cache)
            HookTestUtil.Identical(withAttnIn["blocks.1.hook_attn_in"].Select(2, 0), model.RunWithCache(input).Cache["resid_pre", 1], "attn_in of head 0");

        model.SetUseAttnIn(false);
        model.SetUseAttnResult(false);
        model.SetUseHookMlpIn(false);
        Assert.Throws<UnknownHookException>(() => model.GetHookPoint("blocks.0.attn.hook_result"));
        Assert.DoesNotContain(model.HookDict.Keys, k => k.EndsWith("_input", StringComparison.Ordinal) || k.EndsWith("hook_attn_in", StringComparison.Ordinal) || k.EndsWith("hook_mlp_in", StringComparison.Ordinal));
        HookTestUtil.Close(model.Forward(input), plain, 0, "logits after switching everything off");
    }

    [Fact]
    public void HooksOnPointsThatStayAreKept()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        int calls = 0;
        model.AddHook("blocks.0.attn.hook_z", (z, h) => { calls++; return null; });
        model.SetUseAttnResult(true);
        model.Forward(HookTestUtil.Input("gpt2-tiny"));
        Assert.Equal(1, calls);
    }
}
