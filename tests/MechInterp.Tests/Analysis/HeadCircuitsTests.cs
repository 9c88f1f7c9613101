using MathNet.Numerics.LinearAlgebra;
using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>Per-head QK/OV circuits and composition scores against dense products of the model's weights.</summary>
public sealed class HeadCircuitsTests
{
    private static Matrix<double> Dense(Tensor t)
    {
        var v = t.Contiguous().To(DType.Float64).ToArray<double>();
        int r = (int)t.Shape[^2], c = (int)t.Shape[^1];
        return Matrix<double>.Build.Dense(r, c, (i, j) => v[i * c + j]);
    }

    [Theory, InlineData("gpt2-tiny"), InlineData("llama-tiny")]
    public void QkAndOvAreTheHeadsWeightProducts(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var cfg = model.Config;
        var qk = model.QK();
        var ov = model.OV();
        Assert.Equal([cfg.NLayers, cfg.NHeads, (long)cfg.DModel, cfg.DModel], qk.Shape);
        int group = cfg.NHeads / cfg.KvHeads;
        for (int l = 0; l < cfg.NLayers; l++)
            for (int h = 0; h < cfg.NHeads; h += Math.Max(1, cfg.NHeads / 3))
            {
                var attn = model.Blocks[l].Attn;
                var wq = attn.W_Q.Select(0, h); var wk = attn.W_K.Select(0, h / group); // [d_model, d_head]
                HookTestUtil.Close(qk[l, h].AB, wq.MatMul(wk.T), 1e-5, $"QK L{l}H{h}");
                HookTestUtil.Close(ov[l, h].AB, attn.W_V.Select(0, h / group).MatMul(attn.W_O.Select(0, h)), 1e-5, $"OV L{l}H{h}");
            }
    }

    [Theory, InlineData(CompositionType.Q), InlineData(CompositionType.K), InlineData(CompositionType.V)]
    public void CompositionScoresMatchDenseNorms(CompositionType type)
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        int heads = model.Config.NHeads;
        var scores = model.AllCompositionScores(type);
        Assert.Equal([2L, heads, 2, heads], scores.Shape);
        var values = scores.ToArray<float>();
        var ov = model.OV(); var qk = model.QK();
        for (int h1 = 0; h1 < heads; h1++)
            for (int h2 = 0; h2 < heads; h2++)
            {
                var left = Dense(ov[0, h1].AB);
                var right = type switch { CompositionType.Q => Dense(qk[1, h2].AB), CompositionType.K => Dense(qk[1, h2].AB).Transpose(), _ => Dense(ov[1, h2].AB) };
                double expected = (left * right).FrobeniusNorm() / (left.FrobeniusNorm() * right.FrobeniusNorm());
                Assert.Equal(expected, values[((0 * heads + h1) * 2 + 1) * heads + h2], 4);
                // a head never composes with one in its own or a later layer
                Assert.Equal(0, values[((1 * heads + h1) * 2 + 1) * heads + h2]);
                Assert.Equal(0, values[((1 * heads + h1) * 2 + 0) * heads + h2]);
            }
    }
}
