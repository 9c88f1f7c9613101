using MathNet.Numerics.LinearAlgebra;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>FactoredMatrix against identities and against MathNet.Numerics on the dense product.</summary>
public sealed class FactoredMatrixTests
{
    private static Tensor Random(ulong seed, params long[] shape) => Tensor.Randn(shape, new Generator(seed));

    private static Matrix<double> Dense(Tensor t)
    {
        var v = t.Contiguous().To(DType.Float64).ToArray<double>();
        int r = (int)t.Shape[^2], c = (int)t.Shape[^1];
        return Matrix<double>.Build.Dense(r, c, (i, j) => v[i * c + j]);
    }

    [Fact]
    public void ProductsTransposeAndBothMultiplicationRules()
    {
        var m = new FactoredMatrix(Random(1, 7, 3), Random(2, 3, 6)); // ldim 7, mdim 3, rdim 6
        HookTestUtil.Close(m.T.AB, m.AB.T, 1e-5, "transpose");
        var square = new FactoredMatrix(Random(19, 6, 3), Random(20, 3, 6));
        HookTestUtil.Close(square.BA, square.B.MatMul(square.A), 0, "BA");
        Assert.Throws<InvalidOperationException>(() => m.BA); // 7 × 6 has no BA (as in TransformerLens)
        var wide = Random(3, 6, 5);
        var byWide = m.MatMul(wide);      // rdim 6 > mdim 3: stays (A, B·wide)
        Assert.Equal(3, byWide.MDim);
        HookTestUtil.Close(byWide.AB, m.AB.MatMul(wide), 1e-4, "M·C (factored through mdim)");
        var thin = new FactoredMatrix(Random(4, 7, 6), Random(5, 6, 2)); // rdim 2 < mdim 6: becomes (A·B, C)
        var c = Random(6, 2, 4);
        Assert.Equal(2, thin.MatMul(c).MDim);
        HookTestUtil.Close(thin.MatMul(c).AB, thin.AB.MatMul(c), 1e-4, "M·C (collapsed)");
        var left = Random(7, 4, 7);
        HookTestUtil.Close(m.LeftMatMul(left).AB, left.MatMul(m.AB), 1e-4, "C·M");
        var other = new FactoredMatrix(Random(8, 6, 2), Random(9, 2, 5));
        HookTestUtil.Close((m * other).AB, m.AB.MatMul(other.AB), 1e-4, "factored·factored");
        var v = Random(10, 6);
        HookTestUtil.Close(m.MatMulVector(v), m.AB.MatMul(v), 1e-4, "M·v");
    }

    [Fact]
    public void SvdMatchesMathNetOnTheDenseProduct()
    {
        var m = new FactoredMatrix(Random(11, 9, 4), Random(12, 4, 8));
        var (u, s, v) = m.Svd();
        Assert.Equal([9L, 4], u.Shape);
        Assert.Equal([8L, 4], v.Shape);
        var dense = Dense(m.AB).Svd(computeVectors: false).S.ToArray();
        var ours = s.To(DType.Float64).ToArray<double>();
        for (int i = 0; i < 4; i++) Assert.Equal(dense[i], ours[i], 4);
        for (int i = 4; i < dense.Length; i++) Assert.True(dense[i] < 1e-4, $"rank-4 product has singular value {dense[i]} at {i}");
        HookTestUtil.Close(u.MatMul(Tensor.Eye(4) * s.Unsqueeze(0)).MatMul(v.T), m.AB, 1e-4, "U·diag(S)·Vᵀ");
        HookTestUtil.Close(u.T.MatMul(u), Tensor.Eye(4), 1e-5, "UᵀU");
        HookTestUtil.Close(v.T.MatMul(v), Tensor.Eye(4), 1e-5, "VᵀV");
        HookTestUtil.Close(u.MatMul(m.CollapseL()), m.AB, 1e-4, "U · collapse_l");
        HookTestUtil.Close(m.CollapseR().MatMul(v.T), m.AB, 1e-4, "collapse_r · Vᵀ");
    }

    [Fact]
    public void NormAndEigenvaluesMatchMathNet()
    {
        var m = new FactoredMatrix(Random(13, 8, 3), Random(14, 3, 8));
        Assert.Equal(Dense(m.AB).FrobeniusNorm(), m.Norm().To(DType.Float64).Item<double>(), 4);
        var ours = m.Eigenvalues()[0];
        Assert.Equal(3, ours.Length);
        var dense = (Dense(m.A) * Dense(m.B)).Evd().EigenValues.ToArray(); // 8 eigenvalues (product in float64): B·A's 3 and five zeros
        foreach (var z in ours)
        {
            double nearest = dense.Min(d => (d - z).Magnitude);
            Assert.True(nearest < 1e-8 * Math.Max(1, z.Magnitude), $"eigenvalue {z} of B·A is {nearest} from the dense product's");
        }
        Assert.Equal(5, dense.Count(d => d.Magnitude < 1e-9));
    }

    [Fact]
    public void BatchDimsBroadcastAndIndex()
    {
        var m = new FactoredMatrix(Random(15, 2, 3, 5, 2), Random(16, 3, 2, 4)); // A [2, 3, 5, 2], B [3, 2, 4] broadcast
        Assert.Equal([2L, 3, 5, 4], m.Shape);
        var norms = m.Norm().ToArray<float>();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(Dense(m[i, j].AB).FrobeniusNorm(), norms[i * 3 + j], 3);
        var (u, s, v) = m.Svd();
        Assert.Equal([2L, 3, 5, 2], u.Shape);
        Assert.Equal([2L, 3, 2], s.Shape);
        Assert.Equal([2L, 3, 4, 2], v.Shape);
        HookTestUtil.Close(s.Select(0, 1).Select(0, 2), m[1, 2].S, 1e-6, "batched S");
        Assert.Throws<ArgumentException>(() => new FactoredMatrix(Random(17, 4, 3), Random(18, 2, 4)));
    }
}
