using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>TransformerLens's finer cache analyses, checked through identities and the oracle: the full residual
/// decomposition sums to the residual it decomposes, neuron results sum to mlp_out - b_out, ln_final recomputed on
/// the final residual gives the Hugging Face logits, and direct logit attributions of [batch, pos] answers sum to the
/// logits at those positions.</summary>
public sealed class CacheDecompositionParityTests
{
    /// <summary>Decoders whose attention and MLP outputs are linear in the heads and neurons (Gemma 2 normalises
    /// them after the sublayer, before hook_attn_out / hook_mlp_out).</summary>
    public static TheoryData<string> LinearOutputs()
    {
        var data = new TheoryData<string>();
        foreach (var m in HookTestUtil.Decoders.Where(m => m != "gemma2-tiny")) data.Add(m);
        return data;
    }

    private static ActivationCache Cache(string fixture) => HookTestUtil.Shared(fixture).RunWithCache(HookTestUtil.Input(fixture)).Cache;

    [Theory, MemberData(nameof(LinearOutputs))]
    public void FullResidDecompositionSumsToTheResidual(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        using var cache = Cache(fixture);
        long dMlp = model.Config.DMlp;
        var (all, labels) = cache.GetFullResidDecomposition();
        string[] embeds = model.PosEmbed is null ? ["embed"] : ["embed", "pos_embed"];
        Assert.Equal(8 + 2 * dMlp + embeds.Length + 1, labels.Length);
        Assert.Equal(["L0H0", "L0H1"], labels[..2]);
        Assert.Equal("L0N0", labels[8]);
        Assert.Equal([.. embeds, "bias"], labels[^(embeds.Length + 1)..]);
        Assert.Equal([labels.Length, 2L, 12, 64], all.Shape);
        HookTestUtil.Close(all.Sum(0), cache["resid_post", -1], 1e-4, "full decomposition = final residual");
        HookTestUtil.Close(cache.GetFullResidDecomposition(-1).Stack, all, 0, "layer -1 = final");

        var (toLayer1, labels1) = cache.GetFullResidDecomposition(1);
        Assert.Equal(4 + dMlp + embeds.Length + 1, labels1.Length);
        HookTestUtil.Close(toLayer1.Sum(0), cache["resid_pre", 1], 1e-4, "decomposition of resid_pre 1");
        HookTestUtil.Close(cache.GetFullResidDecomposition(0).Stack.Sum(0), cache["resid_pre", 0], 1e-5, "layer 0: embeddings and nothing else");

        var (mlps, mlpLabels) = cache.GetFullResidDecomposition(expandNeurons: false);
        Assert.Equal(["0_mlp_out", "1_mlp_out"], mlpLabels[8..10]);
        HookTestUtil.Close(mlps.Sum(0), cache["resid_post", -1], 1e-4, "heads + mlp_out + embeds + attention biases");
        if (!model.Config.ParallelAttnMlp)
            HookTestUtil.Close(cache.GetFullResidDecomposition(1, mlpInput: true).Stack.Sum(0), cache["resid_mid", 1], 1e-4, "MLP input of layer 1");

        var (last, _) = cache.GetFullResidDecomposition(posSlice: -1);
        Assert.Equal([labels.Length, 2L, 64], last.Shape);
        HookTestUtil.Close(last, all.Select(2, 11), 1e-6, "pos -1");
    }

    [Theory, MemberData(nameof(LinearOutputs))]
    public void NeuronResultsSumToTheMlpOutputWithoutItsBias(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        using var cache = Cache(fixture);
        var neurons = cache.GetNeuronResults(-1); // [2, 12, d_mlp, 64]
        Assert.Equal([2L, 12, model.Config.DMlp, 64], neurons.Shape);
        HookTestUtil.Close(neurons.Sum(2), cache["mlp_out", 1] - model.Blocks[1].Mlp!.b_out.Value, 1e-5, "layer 1 neurons");
        var picked = cache.GetNeuronResults(0, neuronSlice: new[] { 3, 7 }, posSlice: -1); // [2, 2, 64]
        Assert.Equal([2L, 2, 64], picked.Shape);
        var full0 = cache.GetNeuronResults(0);
        HookTestUtil.Close(picked.Select(1, 0), full0.Select(1, 11).Select(1, 3), 0, "neuron 3 at the last position");
        HookTestUtil.Close(picked.Select(1, 1), full0.Select(1, 11).Select(1, 7), 0, "neuron 7 at the last position");
    }

    [Theory, MemberData(nameof(LinearOutputs))]
    public void RecomputedFinalNormOfTheResidualGivesTheOracleLogits(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        using var cache = Cache(fixture);
        var (stack, _) = cache.AccumulatedResid(); // [3, 2, 12, 64]; the last entry is the final residual
        var recomputed = cache.ApplyLnToStack(stack, -1, recomputeLn: true);
        if (model.Config.NormalizationType == NormalizationType.LN) // LayerNorm's hook_normalized is after its weights; RMSNorm's before
            HookTestUtil.Close(recomputed.Select(0, 2), cache["ln_final.hook_normalized"], 1e-5, "ln_final recomputed");
        HookTestUtil.Close(model.ToLogits(recomputed.Select(0, 2)), HookTestUtil.Reference(fixture).Logits, 2e-4, "logits from the recomputed norm vs the oracle");

        var posless = cache.ApplyLnToStack(stack.Select(2, 11), -1, recomputeLn: true); // [3, 2, 64]
        HookTestUtil.Close(posless, recomputed.Select(2, 11), 1e-6, "recomputeLn on a stack without pos");
        HookTestUtil.Close(cache.ApplyLnToStack(stack, -1), cache.ApplyLnToStack(stack), 0, "layer -1 = ln_final");
        HookTestUtil.Close(cache.ApplyLnToStack(stack, batchSlice: 1), cache.ApplyLnToStack(stack).Select(1, 1), 0, "batch slice");
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void LogitAttrsOfBatchPosAnswersSumToTheAnswerLogits(string fixture)
    {
        bool layerNorm = HookTestUtil.Shared(fixture).Config.NormalizationType == NormalizationType.LN;
        var model = HookTestUtil.Load(fixture, new LoadOptions { FoldLayerNorm = true, CenterWritingWeights = layerNorm });
        var (logits, cache) = model.RunWithCache(HookTestUtil.Input(fixture));
        using (cache)
        {
            var answers = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (long)(i * 21 % 512)).ToArray(), 2, 12);
            var wrong = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (long)(i * 13 % 512)).ToArray(), 2, 12);
            var (stack, _) = cache.DecomposeResid(); // [components, 2, 12, 64]
            var attrs = cache.LogitAttrs(stack, answers, wrong); // [components, 2, 12]
            Assert.Equal([stack.Shape[0], 2L, 12], attrs.Shape);
            var bU = model.b_U;
            var expected = logits.Gather(2, answers.Unsqueeze(2)).Squeeze(2) - logits.Gather(2, wrong.Unsqueeze(2)).Squeeze(2)
                - (bU.IndexSelect(0, answers.Reshape(-1)) - bU.IndexSelect(0, wrong.Reshape(-1))).Reshape(2, 12);
            HookTestUtil.Close(attrs.Sum(0), expected, 1e-4, "DLA of [batch, pos] answers");

            // One id for every row, as an int, equals the same id repeated as [batch] ids.
            var last = cache.DecomposeResid(posSlice: -1).Stack; // [components, 2, 64]
            var byInt = cache.LogitAttrs(last, 17, 42, posSlice: -1);
            var byTensor = cache.LogitAttrs(last, Tensor.FromArray(new long[] { 17, 17 }, 2), Tensor.FromArray(new long[] { 42, 42 }, 2), posSlice: -1);
            HookTestUtil.Close(byInt, byTensor, 1e-6, "int answer vs [batch] answers");
            Assert.Throws<ArgumentException>(() => cache.LogitAttrs(stack, answers, wrong.Narrow(1, 0, 3)));
        }
    }
}
