using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>Model-level weights as TransformerLens exposes them: stacked over layers (key/value heads repeated per
/// query head), labels, the hidden-weight count and the accumulated bias; expected values are the blocks' own tensors
/// and sums written out by hand.</summary>
public sealed class ModelWeightsParityTests
{
    [Fact]
    public void StackedWeightsAreTheBlocksWeights()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        Assert.Equal([2L, 4, 64, 16], model.W_Q.Shape);
        Assert.Equal([2L, 4, 16, 64], model.W_O.Shape);
        Assert.Equal([2L, 64, 256], model.W_in.Shape);
        Assert.Equal([2L, 256, 64], model.W_out.Shape);
        Assert.Equal([2L, 4, 16], model.b_Q.Shape);
        Assert.Equal([2L, 64], model.b_O.Shape);
        Assert.Equal([2L, 256], model.b_in.Shape);
        Assert.Equal([512L], model.b_U.Shape);
        for (int l = 0; l < 2; l++)
        {
            var block = model.Blocks[l];
            HookTestUtil.Identical(model.W_Q.Select(0, l), block.Attn.W_Q, $"W_Q {l}");
            HookTestUtil.Identical(model.W_K.Select(0, l), block.Attn.W_K, $"W_K {l}");
            HookTestUtil.Identical(model.W_V.Select(0, l), block.Attn.W_V, $"W_V {l}");
            HookTestUtil.Identical(model.W_O.Select(0, l), block.Attn.W_O, $"W_O {l}");
            HookTestUtil.Identical(model.b_V.Select(0, l), block.Attn.b_V, $"b_V {l}");
            HookTestUtil.Identical(model.W_out.Select(0, l), block.Mlp!.W_out.Value, $"W_out {l}");
            HookTestUtil.Identical(model.b_out.Select(0, l), block.Mlp.b_out.Value, $"b_out {l}");
        }
        var wEPos = model.W_E_pos;
        Assert.Equal([512L + 32, 64], wEPos.Shape);
        HookTestUtil.Identical(wEPos.Narrow(0, 512, 32), model.W_pos!, "W_pos rows of W_E_pos");
        HookTestUtil.Identical(wEPos.Narrow(0, 0, 512), model.W_E, "W_E rows of W_E_pos");
        Assert.Contains("W_gate", Assert.Throws<InvalidOperationException>(() => model.W_gate).Message);
    }

    [Fact]
    public void GroupedKeyValueHeadsAreRepeatedPerQueryHead()
    {
        var model = HookTestUtil.Shared("llama-tiny"); // 4 query heads, 2 key/value heads
        Assert.Equal([2L, 4, 64, 16], model.W_K.Shape);
        Assert.Equal([2L, 4, 16], model.b_V.Shape);
        for (int h = 0; h < 4; h++)
        {
            HookTestUtil.Identical(model.W_K.Select(0, 1).Select(0, h), model.Blocks[1].Attn.W_K.Select(0, h / 2), $"W_K head {h}");
            HookTestUtil.Identical(model.W_V.Select(0, 0).Select(0, h), model.Blocks[0].Attn.W_V.Select(0, h / 2), $"W_V head {h}");
        }
        Assert.Equal([2L, 64, 176], model.W_gate.Shape);
        Assert.Contains("W_pos", Assert.Throws<InvalidOperationException>(() => model.W_E_pos).Message);
    }

    [Fact]
    public void LabelsAndParameterCountFollowTransformerLens()
    {
        var gpt2 = HookTestUtil.Shared("gpt2-tiny");
        Assert.Equal(["L0H0", "L0H1", "L0H2", "L0H3", "L1H0", "L1H1", "L1H2", "L1H3"], gpt2.AllHeadLabels());
        // n_layers * (4 * d_model * d_head * n_heads + d_model * d_mlp * (2 + gated)), by hand:
        Assert.Equal(2L * (4 * 64 * 16 * 4 + 64 * 256 * 2), gpt2.NParams); // 98 304
        Assert.Equal(98_304L, gpt2.NParams);
        Assert.Equal(2L * (4 * 64 * 16 * 4 + 64 * 176 * 3), HookTestUtil.Shared("llama-tiny").NParams); // 100 352
    }

    [Fact]
    public void AccumulatedBiasAddsTheOutputBiasesBeforeTheLayer()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        double[] Arr(Tensor t) => t.ToArray<double>();
        var bO0 = Arr(model.Blocks[0].Attn.b_O);
        var bO1 = Arr(model.Blocks[1].Attn.b_O);
        var bOut0 = Arr(model.Blocks[0].Mlp!.b_out.Value);
        var bOut1 = Arr(model.Blocks[1].Mlp!.b_out.Value);
        void Check(Tensor actual, Func<int, double> expected, string what)
        {
            var a = Arr(actual);
            Assert.Equal(64, a.Length);
            for (int i = 0; i < 64; i++) Assert.True(Math.Abs(a[i] - expected(i)) < 1e-6, $"{what}[{i}]: {a[i]} vs {expected(i)}");
        }
        Check(model.AccumulatedBias(0), _ => 0, "layer 0");
        Check(model.AccumulatedBias(2), i => bO0[i] + bOut0[i] + bO1[i] + bOut1[i], "all layers");
        Check(model.AccumulatedBias(1, mlpInput: true), i => bO0[i] + bOut0[i] + bO1[i], "MLP input of layer 1");
        Check(model.AccumulatedBias(2, includeMlpBiases: false), i => bO0[i] + bO1[i], "attention biases only");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.AccumulatedBias(2, mlpInput: true));
    }
}
