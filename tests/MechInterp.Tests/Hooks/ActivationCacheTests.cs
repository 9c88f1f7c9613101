using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>RunWithCache options and ActivationCache access: indexers, keys, position slices, name filters, batch
/// removal, devices and the processing record.</summary>
public sealed class ActivationCacheTests
{
    private const string Fixture = "gpt2-tiny";
    private static HookedTransformer Model => HookTestUtil.Shared(Fixture);
    private static Tensor Input => HookTestUtil.Input(Fixture);

    [Fact]
    public void IndexersAgreeAndKeysFollowTheForwardPass()
    {
        var (logits, cache) = Model.RunWithCache(Input);
        using (cache)
        {
            HookTestUtil.Close(logits, HookTestUtil.Reference(Fixture).Logits, 1e-4, "logits");
            Assert.Same(cache["blocks.0.attn.hook_pattern"], cache["pattern", 0]);
            Assert.Same(cache["blocks.1.attn.hook_pattern"], cache["attn", 1]);
            Assert.Same(cache["hook_embed"], cache["embed"]);
            Assert.Same(cache["blocks.1.ln2.hook_scale"], cache["scale", 1, "ln2"]);
            Assert.Same(cache["ln_final.hook_scale"], cache["ln_final.hook_scale"]);
            Assert.Equal(HookTables.For(Fixture).Select(e => e.Name), cache.Keys);
            Assert.Equal(cache.Keys.Count, cache.Count);
            Assert.True(cache.TryGetValue("blocks.1.hook_resid_post", out var post));
            Assert.Same(post, cache["resid_post", 1]);
            var e = Assert.Throws<KeyNotFoundException>(() => cache["blocks.0.attn.hook_result"]);
            Assert.Contains("blocks.0.attn.hook_result", e.Message);
            // The unembed output is the returned logits.
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache["unembed.hook_out"], logits));
        }
    }

    [Fact]
    public void PosSliceKeepsPositionsOnTheQueryDimension()
    {
        var (_, full) = Model.RunWithCache(Input);
        var (_, sliced) = Model.RunWithCache(Input, posSlice: 3..7);
        using (full)
        using (sliced)
        {
            Assert.Equal(full.Keys, sliced.Keys);
            Assert.Equal([2L, 4, 64], sliced["resid_pre", 1].Shape);
            Assert.Equal([2L, 4, 4, 16], sliced["q", 0].Shape);
            Assert.Equal([2L, 4, 4, 12], sliced["pattern", 0].Shape);
            Assert.Equal([2L, 4, 4, 12], sliced["attn_scores", 1].Shape);
            Assert.Equal([2L, 4, 1], sliced["ln_final.hook_scale"].Shape);
            foreach (var name in full.Keys)
            {
                int dim = name.EndsWith("hook_pattern", StringComparison.Ordinal) || name.EndsWith("hook_attn_scores", StringComparison.Ordinal) ? 2 : 1;
                HookTestUtil.Identical(sliced[name], full[name].Narrow(dim, 3, 4), name);
            }
        }
    }

    [Fact]
    public void NamesFilterCachesOnlyWhatIsAskedAndKeepsTheLogits()
    {
        var (logits, byPredicate) = Model.RunWithCache(Input, n => n.EndsWith("hook_resid_post", StringComparison.Ordinal));
        var (_, byList) = Model.RunWithCache(Input, ["blocks.1.attn.hook_z", "hook_pos_embed"]);
        using (byPredicate)
        using (byList)
        {
            Assert.Equal(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"], byPredicate.Keys);
            Assert.Equal(["hook_pos_embed", "blocks.1.attn.hook_z"], byList.Keys);
            HookTestUtil.Close(logits, HookTestUtil.Reference(Fixture).Logits, 1e-4, "filtered logits");
        }
    }

    [Fact]
    public void RemoveBatchDimDropsTheBatchOfASingleSequence()
    {
        var row0 = Input.Narrow(0, 0, 1);
        var (_, both) = Model.RunWithCache(Input);
        var (_, one) = Model.RunWithCache(row0);
        using (both)
        using (one)
        {
            var flat = one.RemoveBatchDim();
            Assert.False(flat.HasBatchDim);
            Assert.Same(flat, flat.RemoveBatchDim());
            Assert.Equal(one.Keys, flat.Keys);
            Assert.Equal([12L, 64], flat["resid_post", 0].Shape);
            Assert.Equal([4L, 12, 12], flat["pattern", 1].Shape);
            foreach (var name in one.Keys)
                HookTestUtil.Identical(flat[name], one[name].Squeeze(0), name);
            // Row 0 alone equals row 0 of the batch (causal attention, no padding).
            HookTestUtil.Close(flat["resid_post", 1], both["resid_post", 1].Select(0, 0), 1e-5, "row 0");
            Assert.Throws<InvalidOperationException>(() => both.RemoveBatchDim());
        }
    }

    [Fact]
    public void ToDeviceMovesEveryTensorBothWays()
    {
        var (_, cache) = Model.RunWithCache(Input);
        using (cache)
        {
            var torch = cache.ToDevice(Device.TorchCpu);
            var back = torch.ToDevice(Device.Cpu);
            Assert.Equal(cache.Keys, torch.Keys);
            foreach (var name in cache.Keys)
            {
                Assert.Equal(Device.TorchCpu, torch[name].Device);
                Assert.Equal(Device.Cpu, back[name].Device);
                HookTestUtil.Identical(back[name], cache[name], name);
            }
            var (_, direct) = Model.RunWithCache(Input, n => n.Contains("resid", StringComparison.Ordinal), device: Device.TorchCpu);
            using (direct)
                foreach (var name in direct.Keys)
                {
                    Assert.Equal(Device.TorchCpu, direct[name].Device);
                    HookTestUtil.Close(direct[name], cache[name], 1e-5, name); // the unfiltered run takes the unfused norm path
                }
            torch.Dispose();
            back.Dispose();
            cache.ToDevice(Device.Cpu).Dispose(); // a "copy" on the same device
            // Disposing copies leaves the original alone.
            Assert.All(cache.Keys, name => Assert.False(cache[name].IsDisposed, name));
            HookTestUtil.Close(cache["unembed.hook_out"], HookTestUtil.Reference(Fixture).Logits, 1e-4, "cached logits after disposing copies");
        }
    }

    [Fact]
    public void CachesRecordTheModelsWeightProcessing()
    {
        var (_, plain) = Model.RunWithCache(Input);
        using (plain) Assert.Equal(WeightProcessing.None, plain.Processing);
        var folded = HookTestUtil.Load(Fixture, new LoadOptions { FoldLayerNorm = true, FoldValueBiases = true });
        Assert.Equal(new WeightProcessing(true, false, false, true), folded.Processing);
        var (_, cache) = folded.RunWithCache(Input);
        using (cache) Assert.Equal(folded.Processing, cache.Processing);
        folded.ProcessWeights(new WeightProcessing(false, true, true, false));
        Assert.Equal(new WeightProcessing(true, true, true, true), folded.Processing);
        Assert.Equal(new WeightProcessing(true, false, false, true), cache.Processing); // a snapshot
    }
}
