using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>TransformerLens's ways of reading an ActivationCache: negative layers, aliases and compact keys, iteration,
/// pos/batch slices as an index, a range or a list, StackActivation. Expected values are the cached tensors themselves
/// read by full name and sliced with plain tensor views (Select / Narrow), never through the code under test.</summary>
public sealed class CacheIndexingParityTests
{
    private static HookedTransformer Model => HookTestUtil.Shared("gpt2-tiny");
    private static Tensor Input => HookTestUtil.Input("gpt2-tiny");

    [Fact]
    public void NegativeLayersAliasesAndCompactKeysReadTheSameTensors()
    {
        using var cache = Model.RunWithCache(Input).Cache;
        Assert.Same(cache["blocks.1.attn.hook_k"], cache["k", -1]);
        Assert.Same(cache["blocks.0.attn.hook_k"], cache["k", -2]);
        Assert.Same(cache["blocks.1.attn.hook_k"], cache["k1"]);
        Assert.Same(cache["blocks.0.attn.hook_attn_scores"], cache["attn_logits", 0]);
        Assert.Same(cache["blocks.0.mlp.hook_post"], cache["mlp_post", -2]);
        Assert.Same(cache["blocks.1.ln1.hook_scale"], cache["scale1ln1"]);
        Assert.Same(cache["blocks.1.ln2.hook_scale"], cache["scale", -1, "ln2"]);
        Assert.Same(cache["blocks.1.attn.hook_q"], cache["query", -1, "a"]);
        Assert.Same(cache["ln_final.hook_scale"], cache["scale"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache["k", -3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache["k", 2]);
    }

    [Fact]
    public void IterationVisitsEveryEntryInForwardOrder()
    {
        using var cache = Model.RunWithCache(Input).Cache;
        var names = new List<string>();
        foreach (var (name, act) in cache)
        {
            Assert.Same(cache[name], act);
            names.Add(name);
        }
        Assert.Equal(cache.Keys, names);
        Assert.Equal(cache.Count, cache.Values.Count);
        Assert.Equal(Model.HookDict.Keys.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal)); // every hook point once
        Assert.Equal("hook_embed", names[0]);
        Assert.Equal(cache.Keys, cache.Items.Select(kv => kv.Key));
    }

    [Fact]
    public void PosSliceAsIndexRangeAndList()
    {
        using var full = Model.RunWithCache(Input).Cache;
        using var last = Model.RunWithCache(Input, posSlice: -1).Cache;
        using var some = Model.RunWithCache(Input, posSlice: new[] { 0, 5, -1 }).Cache;
        using var range = Model.RunWithCache(Input, posSlice: 2..4).Cache;
        var resid = full["resid_pre", 1]; // [2, 12, 64]
        Assert.Equal([2L, 64], last["resid_pre", 1].Shape); // an index drops the pos dim, as x[:, -1] does
        HookTestUtil.Identical(last["resid_pre", 1], resid.Select(1, 11), "pos -1");
        Assert.Equal([2L, 4, 12], last["pattern", 0].Shape); // patterns are sliced on the query dim
        HookTestUtil.Identical(last["pattern", 0], full["pattern", 0].Select(2, 11), "pattern at query -1");
        Assert.Equal([2L, 3, 64], some["resid_pre", 1].Shape);
        HookTestUtil.Identical(some["resid_pre", 1].Select(1, 0), resid.Select(1, 0), "pos 0");
        HookTestUtil.Identical(some["resid_pre", 1].Select(1, 1), resid.Select(1, 5), "pos 5");
        HookTestUtil.Identical(some["resid_pre", 1].Select(1, 2), resid.Select(1, 11), "pos -1 in a list");
        HookTestUtil.Identical(range["resid_pre", 1], resid.Narrow(1, 2, 2), "pos 2..4");
        Assert.Throws<ArgumentOutOfRangeException>(() => Slice.At(12).Apply(resid, 1));
    }

    [Fact]
    public void BatchSlicesAndRemovingTheBatchDim()
    {
        using var cache = Model.RunWithCache(Input).Cache;
        Assert.True(cache.HasBatchDim);
        using var second = cache.ApplySliceToBatchDim(1);
        Assert.False(second.HasBatchDim);
        HookTestUtil.Identical(second["resid_post", 0], cache["resid_post", 0].Select(0, 1), "batch element 1");
        using var first = cache.ApplySliceToBatchDim(0..1);
        Assert.True(first.HasBatchDim);
        Assert.Equal([1L, 12, 64], first["resid_post", 0].Shape);
        var single = first.RemoveBatchDim();
        Assert.False(single.HasBatchDim);
        HookTestUtil.Identical(single["resid_post", 0], cache["resid_post", 0].Select(0, 0), "RemoveBatchDim of element 0");
        Assert.Throws<InvalidOperationException>(() => cache.RemoveBatchDim()); // batch of 2
        Assert.Throws<InvalidOperationException>(() => second.ApplySliceToBatchDim(0));
        using var reversed = cache.ApplySliceToBatchDim(new[] { 1, 0 });
        HookTestUtil.Identical(reversed["z", 0].Select(0, 0), cache["z", 0].Select(0, 1), "listed batch order");

        // Analyses work on a cache without batch dim: a decomposition still sums to its residual.
        var (stack, _) = single.DecomposeResid(1);
        HookTestUtil.Close(stack.Sum(0), single["resid_pre", 1], 1e-5, "decomposition without batch dim");
    }

    [Fact]
    public void StackActivationStacksLayersInOrder()
    {
        using var cache = Model.RunWithCache(Input).Cache;
        var patterns = cache.StackActivation("pattern");
        Assert.Equal([2L, 2, 4, 12, 12], patterns.Shape);
        HookTestUtil.Identical(patterns.Select(0, 1), cache["blocks.1.attn.hook_pattern"], "layer 1 pattern");
        var scales = cache.StackActivation("scale", 1, "ln2");
        Assert.Equal([1L, 2, 12, 1], scales.Shape);
        HookTestUtil.Identical(scales.Select(0, 0), cache["blocks.0.ln2.hook_scale"], "ln2 scale");
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.StackActivation("pattern", 3));
    }
}
