using MathNet.Numerics.LinearAlgebra;
using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>The SVD interpreter's directions against MathNet's SVD of the dense weights, read through W_U.</summary>
public sealed class SvdInterpreterTests
{
    private static Matrix<double> Dense(Tensor t)
    {
        var v = t.Contiguous().To(DType.Float64).ToArray<double>();
        int r = (int)t.Shape[^2], c = (int)t.Shape[^1];
        return Matrix<double>.Build.Dense(r, c, (i, j) => v[i * c + j]);
    }

    [Theory, InlineData(SvdTarget.OV), InlineData(SvdTarget.QK), InlineData(SvdTarget.WIn), InlineData(SvdTarget.WOut)]
    public void DirectionsAreTheDenseSingularVectorsReadAsTokens(SvdTarget target)
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var dense = target switch
        {
            SvdTarget.OV => Dense(model.OV()[1, 2].AB),
            SvdTarget.QK => Dense(model.QK()[1, 2].AB),
            SvdTarget.WIn => Dense(model.Blocks[1].Mlp!.W_in.Value),
            _ => Dense(model.Blocks[1].Mlp!.W_out.Value),
        };
        var svd = dense.Svd(computeVectors: true);
        // residual-side singular vectors: right ones for OV, QK and W_out, left ones for W_in
        var residualSide = target == SvdTarget.WIn ? svd.U : svd.VT.Transpose();
        var wU = Dense(model.W_U);
        var found = SvdInterpreter.Interpret(model, target, layer: 1, head: 2, directions: 3, tokens: 5);
        Assert.Equal(3, found.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(svd.S[i], found[i].SingularValue, 3);
            var scores = residualSide.Column(i) * wU;                           // [vocab]
            var top = Enumerable.Range(0, scores.Count).OrderByDescending(t => scores[t]).Take(5).Select(t => (long)t).ToArray();
            var bottom = Enumerable.Range(0, scores.Count).OrderBy(t => scores[t]).Take(5).Select(t => (long)t).ToArray();
            var ours = (found[i].Top.Select(t => t.Token).ToArray(), found[i].Bottom.Select(t => t.Token).ToArray());
            // a singular vector's sign is arbitrary: the ends may swap
            Assert.True((ours.Item1.SequenceEqual(top) && ours.Item2.SequenceEqual(bottom)) || (ours.Item1.SequenceEqual(bottom) && ours.Item2.SequenceEqual(top)),
                $"direction {i}: top {string.Join(",", ours.Item1)} / bottom {string.Join(",", ours.Item2)} vs {string.Join(",", top)} / {string.Join(",", bottom)}");
        }
    }
}
