using MechInterp.Saes;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>Splicing at other sites of gpt2-tiny (4 heads of 16): a hook_z SAE (reshaped as SAELens does), a skip
/// transcoder replacing an MLP's output from its input, and several at once — each equal to the same edit written by
/// hand as hooks.</summary>
public class SaeSpliceSitesTests
{
    private static Tensor Ids => HookTestUtil.Input("gpt2-tiny");

    [Fact]
    public void HookZSaeReplacesTheHeadsOutputs()
    {
        using var scope = Tensor.Scope();
        var model = HookTestUtil.Load("gpt2-tiny");
        var sae = Sae.Load(SaeFixtures.Dir("standard-hookz")); // hook blocks.0.attn.hook_z, [.., 4, 16] <-> 64
        var byHand = model.RunWithHooks(Ids, new HookSpec("blocks.0.attn.hook_z", (z, _) =>
        {
            var flat = z.Reshape(z.Shape[0], z.Shape[1], 64) - sae.BDec;                          // [batch, pos, 64]
            var f = (flat.MatMul(sae.WEnc) + sae.Weights["b_enc"].Value).Relu();
            return (f.MatMul(sae.WDec) + sae.BDec).Reshape(z.Shape);
        }));
        var (logits, cache) = model.RunWithCacheWithSaes(Ids, [sae]);
        SaeFixtures.Close(logits, byHand, 1e-4, 0, "hook_z splice");
        Assert.Equal([2L, 12, 256], cache["blocks.0.attn.hook_z.hook_sae_acts_post"].Shape);
        Assert.Equal([2L, 12, 4, 16], cache["blocks.0.attn.hook_z.hook_sae_output"].Shape);
    }

    [Fact]
    public void SkipTranscoderReplacesTheMlpOutputFromItsInput()
    {
        using var scope = Tensor.Scope();
        var model = HookTestUtil.Load("gpt2-tiny");
        var tc = Sae.Load(SaeFixtures.Dir("skip-transcoder")); // blocks.0.ln2.hook_normalized -> blocks.0.hook_mlp_out
        Tensor? input = null;
        var byHand = model.RunWithHooks(Ids,
            new HookSpec("blocks.0.ln2.hook_normalized", (x, _) => { input = x; return null; }),
            new HookSpec("blocks.0.hook_mlp_out", (_, _) =>
            {
                var f = (input!.MatMul(tc.WEnc) + tc.Weights["b_enc"].Value).Relu();
                return f.MatMul(tc.WDec) + tc.BDec + input!.MatMul(tc.Weights["W_skip"].Value.T);
            }));
        var (logits, cache) = model.RunWithCacheWithSaes(Ids, [tc]);
        SaeFixtures.Close(logits, byHand, 1e-4, 0, "transcoder splice");
        Assert.True(cache.ContainsKey("blocks.0.hook_mlp_out.hook_sae_acts_post"));
    }

    [Fact]
    public void SeveralSaesAtOnceEqualTheirEditsTogether()
    {
        using var scope = Tensor.Scope();
        var model = HookTestUtil.Load("gpt2-tiny");
        var z = Sae.Load(SaeFixtures.Dir("standard-hookz"));
        var resid = Sae.Load(SaeFixtures.Dir("splice-gpt2-tiny"));
        var together = model.RunWithSaes(Ids, [z, resid]);
        var byHand = model.RunWithHooks(Ids,
            new HookSpec("blocks.0.attn.hook_z", (a, _) => z.Forward(a)),
            new HookSpec("blocks.1.hook_resid_post", (a, _) => resid.Forward(a)));
        SaeFixtures.Close(together, byHand, 1e-5, 0, "two SAEs at once");
        var withError = model.RunWithSaes(Ids, [z, resid], useErrorTerm: true);
        SaeFixtures.Close(withError, model.Forward(Ids), 1e-4, 0, "two SAEs with error terms == clean");
    }
}
