using MechInterp.Saes;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>An SAE spliced into gpt2-tiny at blocks.1.hook_resid_post: logits vs the oracle (HF GPT-2 with block 1's
/// output replaced by SAELens's forward), the error term leaves the clean logits, the cache holds the SAE's points.</summary>
public class SaeSpliceTests
{
    private const string Folder = "splice-gpt2-tiny";

    [Fact]
    public void SplicedLogitsMatchTheOracleAndTheErrorTermRestoresTheCleanRun()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference(Folder);
        var model = HookTestUtil.Load("gpt2-tiny");
        var sae = Sae.Load(SaeFixtures.Dir(Folder));
        var ids = r.Tensor("input_ids");
        var clean = model.Forward(ids);
        SaeFixtures.Close(model.RunWithSaes(ids, [sae]), r.Tensor("logits_spliced"), 1e-4, 0, "spliced logits");
        var withError = model.RunWithSaes(ids, [sae], useErrorTerm: true);
        SaeFixtures.Close(withError, r.Tensor("logits_error_term"), 1e-4, 0, "error-term logits vs oracle");
        SaeFixtures.Close(withError, clean, 1e-5, 0, "error-term logits vs our clean run");
        // Nothing stays attached after the call.
        SaeFixtures.Close(model.Forward(ids), clean, 0, 0, "after RunWithSaes");
        Assert.DoesNotContain(model.HookDict.Keys, k => k.Contains("hook_sae", StringComparison.Ordinal));
    }

    [Fact]
    public void CacheHoldsTheSaeHookPointsUnderTheHookName()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference(Folder);
        var model = HookTestUtil.Load("gpt2-tiny");
        var sae = Sae.Load(SaeFixtures.Dir(Folder));
        const string at = "blocks.1.hook_resid_post";
        var (logits, cache) = model.RunWithCacheWithSaes(r.Tensor("input_ids"), [sae], useErrorTerm: true);
        foreach (var n in Sae.HookPointNames) Assert.True(cache.ContainsKey($"{at}.{n}"), $"cache lacks {at}.{n}");
        SaeFixtures.Close(cache[at], r.Tensor("resid_clean"), 1e-4, 0, "resid_post before the SAE");
        SaeFixtures.Close(cache[$"{at}.hook_sae_acts_post"], r.Tensor("feature_acts"), 1e-4, 1e-4, "hook_sae_acts_post");
        SaeFixtures.Close(cache[$"{at}.hook_sae_acts_pre"], r.Tensor("hidden_pre"), 1e-4, 1e-4, "hook_sae_acts_pre");
        SaeFixtures.Close(cache[$"{at}.hook_sae_recons"], r.Tensor("sae_out"), 1e-4, 1e-4, "hook_sae_recons");
        SaeFixtures.Close(cache[$"{at}.hook_sae_recons"] + cache[$"{at}.hook_sae_error"], cache[$"{at}.hook_sae_output"], 1e-5, 0, "recons + error == output");
        SaeFixtures.Close(logits, r.Tensor("logits_error_term"), 1e-4, 0, "logits");
        Assert.Equal("hook_sae_acts_post", sae.HookSaeActsPost.Name);
    }

    [Fact]
    public void AddSaeStaysUntilResetAndEditsThroughItsHooks()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference(Folder);
        var model = HookTestUtil.Load("gpt2-tiny");
        var sae = Sae.Load(SaeFixtures.Dir(Folder));
        var ids = r.Tensor("input_ids");
        var clean = model.Forward(ids);
        model.AddSae(sae);
        Assert.Single(model.Saes());
        SaeFixtures.Close(model.Forward(ids), r.Tensor("logits_spliced"), 1e-4, 0, "forward with an added SAE");
        Assert.Throws<InvalidOperationException>(() => model.AddSae(sae));
        model.ResetSaes();
        SaeFixtures.Close(model.Forward(ids), clean, 0, 0, "after ResetSaes");

        // Zeroing every latent through the hook == replacing the residual stream by b_dec.
        using (model.WithSaes([sae], useErrorTerm: false))
        {
            var zeroed = model.RunWithHooks(ids, new HookSpec("blocks.1.hook_resid_post.hook_sae_acts_post", (x, _) => x * 0));
            model.ResetSaes();
            var byHand = model.RunWithHooks(ids, new HookSpec("blocks.1.hook_resid_post", (x, _) => Tensor.ZerosLike(x) + sae.BDec));
            SaeFixtures.Close(zeroed, byHand, 1e-5, 0, "zeroed latents");
        }
    }
}
