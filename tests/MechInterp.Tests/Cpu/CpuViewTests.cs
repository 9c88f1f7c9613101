using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>O(1) views (permute, narrow with step, expand) and contiguous copies of them.</summary>
public sealed class CpuViewTests
{
    [Fact]
    public void PermuteNarrowStepAndContiguousMatchIndexMath()
    {
        long[] shape = [4, 5, 6];
        var (x, d) = F64(shape, 3);
        var p = x.Permute(2, 0, 1); // [6, 4, 5]
        Assert.False(p.IsContiguous);
        var s = p.Slice(0, 1, 6, 2).Slice(2, 0, 5, 3); // rows 1,3,5; cols 0,3 -> [3, 4, 2]
        var got = s.Contiguous().ToArray<double>();
        Assert.Equal([3L, 4, 2], s.Shape);
        int k = 0;
        foreach (var i2 in new[] { 1, 3, 5 })
            for (int i0 = 0; i0 < 4; i0++)
                foreach (var i1 in new[] { 0, 3 })
                    Assert.Equal(d[i0 * 30 + i1 * 6 + i2], got[k++]);
    }

    [Fact]
    public void ExpandUsesStrideZeroAndCopiesCorrectly()
    {
        var (x, d) = F32([3, 1], 4);
        var e = x.Expand(2, 3, 4);
        Assert.Equal([2L, 3, 4], e.Shape);
        var got = e.Contiguous().ToArray<float>();
        for (int b = 0; b < 2; b++) for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++)
            Assert.Equal((float)d[i], got[b * 12 + i * 4 + j]);
    }

    [Fact]
    public void LargeTransposeCopyIsExact()
    {
        var (x, d) = F32([2, 300, 257], 5); // multithreaded blocked transpose path
        var t = x.Transpose(1, 2).Contiguous();
        var got = t.ToArray<float>();
        for (int b = 0; b < 2; b++) for (int i = 0; i < 300; i++) for (int j = 0; j < 257; j++)
            Assert.Equal((float)d[b * 300 * 257 + i * 257 + j], got[b * 300 * 257 + j * 300 + i]);
    }

    [Fact]
    public void ReshapeOfNonContiguousCopiesAndViewOfContiguousShares()
    {
        var (x, d) = F64([3, 4], 6);
        var r = x.T.Reshape(12).ToArray<double>();
        Assert.Equal(Transpose(d, 3, 4), r);
        var v = x.View(2, 6);
        Assert.True(v.IsContiguous);
        Assert.Equal(d, v.ToArray<double>());
        Assert.Equal(d[5], x.Select(1, 1).ToArray<double>()[1]);
    }

    [Fact]
    public void ScalarAndEmptyTensorsWork()
    {
        var s = Tensor.Scalar(2.5f);
        Assert.Empty(s.Shape);
        Assert.Equal(5f, (s * 2.0).Item<float>());
        Assert.Equal(2.5f, s.Sum().Item<float>());
        var e = Tensor.Zeros([0, 4]);
        Assert.Equal(0, (e + 1.0).NumElements);
        Assert.Equal([0f, 0f, 0f, 0f], e.Sum(0).ToArray<float>());
    }
}
