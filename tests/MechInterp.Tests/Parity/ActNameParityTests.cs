using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>ActName.Get against the examples in TransformerLens's utils.get_act_name docstring and its alias tables
/// (v2.18), written out by hand.</summary>
public sealed class ActNameParityTests
{
    [Theory]
    [InlineData("k", 6, "a", "blocks.6.attn.hook_k")]
    [InlineData("pre", 2, null, "blocks.2.mlp.hook_pre")]
    [InlineData("normalized", 27, "ln2", "blocks.27.ln2.hook_normalized")]
    [InlineData("attn_logits", 0, null, "blocks.0.attn.hook_attn_scores")]
    [InlineData("attn", 1, null, "blocks.1.attn.hook_pattern")]
    [InlineData("mlp_post", 1, null, "blocks.1.mlp.hook_post")]
    [InlineData("mlp_pre", 3, null, "blocks.3.mlp.hook_pre")]
    [InlineData("mlp_mid", 3, null, "blocks.3.mlp.hook_mid")]
    [InlineData("key", 0, null, "blocks.0.attn.hook_k")]
    [InlineData("query", 0, null, "blocks.0.attn.hook_q")]
    [InlineData("value", 0, "attention", "blocks.0.attn.hook_v")]
    [InlineData("resid_pre", 2, "b", "blocks.2.hook_resid_pre")]
    [InlineData("resid_post", 2, "block", "blocks.2.hook_resid_post")]
    [InlineData("pre_linear", 1, "m", "blocks.1.mlp.hook_pre_linear")]
    [InlineData("scale", 4, "ln1", "blocks.4.ln1.hook_scale")]
    public void ShortNamesWithLayers(string name, int layer, string? layerType, string expected) =>
        Assert.Equal(expected, ActName.Get(name, layer, layerType));

    [Theory]
    [InlineData("k6", "blocks.6.attn.hook_k")]
    [InlineData("scale4ln1", "blocks.4.ln1.hook_scale")]
    [InlineData("pre5", "blocks.5.mlp.hook_pre")]
    [InlineData("pattern11", "blocks.11.attn.hook_pattern")]
    [InlineData("normalized0ln2", "blocks.0.ln2.hook_normalized")]
    [InlineData("embed", "hook_embed")]
    [InlineData("pos_embed", "hook_pos_embed")]
    [InlineData("scale", "ln_final.hook_scale")]
    [InlineData("normalized", "ln_final.hook_normalized")]
    [InlineData("blocks.0.attn.hook_z", "blocks.0.attn.hook_z")]
    [InlineData("hook_embed", "hook_embed")]
    [InlineData("blocks.0.hook_resid_pre.hook_sae_acts_post", "blocks.0.hook_resid_pre.hook_sae_acts_post")]
    public void CompactFormsAndFullNames(string name, string expected) => Assert.Equal(expected, ActName.Get(name));

    [Fact]
    public void BadNamesAreRefusedWithTheFix()
    {
        Assert.Contains("known", Assert.Throws<ArgumentException>(() => ActName.Get("resid_pree", 0)).Message);
        Assert.Contains("layer", Assert.Throws<ArgumentException>(() => ActName.Get("q")).Message);
        Assert.Contains("ln1", Assert.Throws<ArgumentException>(() => ActName.Get("scale", 3)).Message);
        Assert.Contains("cache", Assert.Throws<ArgumentOutOfRangeException>(() => ActName.Get("k", -1)).Message);
    }
}
