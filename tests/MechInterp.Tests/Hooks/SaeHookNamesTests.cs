using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>SAE hook names as SAELens spells them (its HookedSAETransformer's names, listed in the SAE fixtures' README).</summary>
public sealed class SaeHookNamesTests
{
    [Fact]
    public void NamesAreSaeLensOnesUnderTheAttachmentPoint()
    {
        Assert.Equal("blocks.1.hook_resid_post.hook_sae_acts_post", SaeHookNames.Under("blocks.1.hook_resid_post", SaeHookNames.ActsPost));
        Assert.Equal(["hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_recons", "hook_sae_error", "hook_sae_output"], SaeHookNames.All);
        Assert.True(SaeHookNames.IsSaeHook("blocks.0.attn.hook_z.hook_sae_error"));
        Assert.False(SaeHookNames.IsSaeHook("blocks.0.attn.hook_z"));
        Assert.Throws<ArgumentException>(() => SaeHookNames.Under("blocks.0.hook_resid_pre", "hook_sae_typo"));
    }
}
