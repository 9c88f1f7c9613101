using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>ActivationCache's residual-stream analyses, checked through identities: decompositions sum to the
/// residual they decompose, and direct logit attributions sum to the logit difference.</summary>
public sealed class CacheDecompositionTests
{
    public static TheoryData<string> Decoders() => HookTestUtil.DecoderData();

    private static ActivationCache Cache(string fixture) => HookTestUtil.Shared(fixture).RunWithCache(HookTestUtil.Input(fixture)).Cache;

    [Theory, MemberData(nameof(Decoders))]
    public void DecomposeResidSumsToTheResidual(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        using var cache = Cache(fixture);
        var (final, labels) = cache.DecomposeResid();
        string[] embeds = model.PosEmbed is null ? ["embed"] : ["embed", "pos_embed"];
        Assert.Equal([.. embeds, "0_attn_out", "0_mlp_out", "1_attn_out", "1_mlp_out"], labels);
        HookTestUtil.Close(final.Sum(0), cache["resid_post", 1], 1e-5, "final residual");
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache.DecomposeResid(-1).Stack, final));

        var (toLayer1, labels1) = cache.DecomposeResid(1);
        Assert.Equal([.. embeds, "0_attn_out", "0_mlp_out"], labels1);
        HookTestUtil.Close(toLayer1.Sum(0), cache["resid_pre", 1], 1e-5, "resid_pre 1");
        HookTestUtil.Close(cache.DecomposeResid(0).Stack.Sum(0), cache["resid_pre", 0], 1e-5, "resid_pre 0");

        var (attnOnly, attnLabels) = cache.DecomposeResid(mode: "attn", inclEmbeds: false);
        Assert.Equal(["0_attn_out", "1_attn_out"], attnLabels);
        HookTestUtil.Close(attnOnly.Sum(0), cache["attn_out", 0] + cache["attn_out", 1], 1e-5, "attention outputs");

        if (!model.Config.ParallelAttnMlp)
            HookTestUtil.Close(cache.DecomposeResid(1, mlpInput: true).Stack.Sum(0), cache["resid_mid", 1], 1e-5, "resid_mid 1");

        var (last, _) = cache.DecomposeResid(posSlice: ^1..);
        Assert.Equal([embeds.Length + 4L, 2, 1, 64], last.Shape);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(last, final.Narrow(2, 11, 1)));
    }

    [Theory, MemberData(nameof(Decoders))]
    public void AccumulatedResidEntriesAreTheResidualHooks(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        using var cache = Cache(fixture);
        var (all, labels) = cache.AccumulatedResid();
        Assert.Equal(["0_pre", "1_pre", "final_post"], labels);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(all.Select(0, 0), cache["resid_pre", 0]));
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(all.Select(0, 1), cache["resid_pre", 1]));
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(all.Select(0, 2), cache["resid_post", 1]));
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache.AccumulatedResid(-1).Stack, all));
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache.AccumulatedResid(2).Stack, all));

        // TransformerLens: "up to the input to layer l" includes layer l's resid_pre.
        var (upTo1, labels1) = cache.AccumulatedResid(1);
        Assert.Equal(["0_pre", "1_pre"], labels1);
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(upTo1, all.Narrow(0, 0, 2)));
        Assert.Equal(["0_pre"], cache.AccumulatedResid(0).Labels);

        if (!model.Config.ParallelAttnMlp)
        {
            var (withMid, midLabels) = cache.AccumulatedResid(inclMid: true);
            Assert.Equal(["0_pre", "0_mid", "1_pre", "1_mid", "final_post"], midLabels);
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(withMid.Select(0, 3), cache["resid_mid", 1]));
            var (mlpIn, mlpLabels) = cache.AccumulatedResid(1, mlpInput: true);
            Assert.Equal(["0_pre", "1_pre", "1_mid"], mlpLabels);
            Assert.Equal(0, HookTestUtil.MaxAbsDiff(mlpIn.Select(0, 2), cache["resid_mid", 1]));
        }
    }

    [Theory, MemberData(nameof(Decoders))]
    public void HeadAndNeuronResultsSumToTheirLayerOutputs(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        using var cache = Cache(fixture);
        var (heads, labels) = cache.StackHeadResults(inclRemainder: true);
        Assert.Equal(["L0H0", "L0H1", "L0H2", "L0H3", "L1H0", "L1H1", "L1H2", "L1H3", "remainder"], labels);
        HookTestUtil.Close(heads.Sum(0), cache["resid_post", 1], 1e-5, "heads + remainder");
        HookTestUtil.Close(cache.StackHeadResults(1, inclRemainder: true).Stack.Sum(0), cache["resid_pre", 1], 1e-5, "layer-0 heads + remainder");
        bool postNorms = model.Config.UseNormalizationBeforeAndAfter; // Gemma 2 normalises attn/MLP outputs before hook_attn_out/hook_mlp_out
        for (int l = 0; l < 2 && !postNorms; l++)
        {
            var layerHeads = heads.Narrow(0, 4 * l, 4).Sum(0);
            HookTestUtil.Close(layerHeads + model.Blocks[l].Attn.b_O, cache["attn_out", l], 1e-5, $"layer {l} heads + b_O");
        }

        var (neurons, neuronLabels) = cache.StackNeuronResults(inclRemainder: true);
        long dMlp = model.Config.DMlp;
        Assert.Equal(2 * dMlp + 1, neurons.Shape[0]);
        Assert.Equal("L0N0", neuronLabels[0]);
        Assert.Equal($"L1N{dMlp - 1}", neuronLabels[^2]);
        HookTestUtil.Close(neurons.Sum(0), cache["resid_post", 1], 1e-4, "neurons + remainder");
        for (int l = 0; l < 2 && !postNorms; l++)
        {
            var layerNeurons = neurons.Narrow(0, l * dMlp, dMlp).Sum(0);
            HookTestUtil.Close(layerNeurons, cache["mlp_out", l] - model.Blocks[l].Mlp!.b_out.Value, 1e-5, $"layer {l} neurons = mlp_out - b_out");
        }
    }

    public static TheoryData<string> AttributionCases()
    {
        var data = new TheoryData<string>();
        foreach (var m in HookTestUtil.Decoders.Where(m => m != "gemma2-tiny")) data.Add(m); // Gemma 2's final soft cap is not linear
        return data;
    }

    [Theory, MemberData(nameof(AttributionCases))]
    public void DirectLogitAttributionsSumToTheLogitDifference(string fixture)
    {
        var probe = HookTestUtil.Shared(fixture);
        bool layerNorm = probe.Config.NormalizationType == NormalizationType.LN;
        var model = HookTestUtil.Load(fixture, new LoadOptions { FoldLayerNorm = true, CenterWritingWeights = layerNorm });
        var (logits, cache) = model.RunWithCache(HookTestUtil.Input(fixture));
        using (cache)
        {
            var correct = Tensor.FromArray(new long[] { 17, 301 }, 2);
            var wrong = Tensor.FromArray(new long[] { 42, 5 }, 2);
            var last = logits.Narrow(1, 11, 1).Squeeze(1); // [2, vocab]
            var bU = model.Unembed.b_U.Value;
            var diff = last.Gather(1, correct.Unsqueeze(1)) - last.Gather(1, wrong.Unsqueeze(1)) // [2, 1]
                - (bU.IndexSelect(0, correct) - bU.IndexSelect(0, wrong)).Unsqueeze(1);

            var (stack, _) = cache.DecomposeResid(posSlice: ^1..); // [components, 2, 1, 64]
            var attrs = cache.LogitAttrs(stack, correct, wrong, posSlice: ^1..); // [components, 2, 1]
            HookTestUtil.Close(attrs.Sum(0), diff, 1e-4, "DLA sum vs logit difference");

            // The same through ApplyLnToStack and the unembedding directions by hand.
            var scaled = cache.ApplyLnToStack(stack, posSlice: ^1..);
            var direction = (model.W_U.IndexSelect(1, correct) - model.W_U.IndexSelect(1, wrong)).T; // [2, 64]
            var byHand = (scaled * direction.Reshape(1, 2, 1, 64)).Sum(-1);
            HookTestUtil.Close(byHand, attrs, 1e-5, "ApplyLnToStack + W_U directions");

            // Per-head attributions plus the remainder give the same total.
            var (heads, _) = cache.StackHeadResults(inclRemainder: true, posSlice: ^1..);
            HookTestUtil.Close(cache.LogitAttrs(heads, correct, wrong, posSlice: ^1..).Sum(0), diff, 1e-4, "head DLA sum");
        }
    }
}
