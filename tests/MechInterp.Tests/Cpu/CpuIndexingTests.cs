using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>IndexSelect, Gather, ScatterAdd, IndexAdd, Concat, Sort and TopK against index-math references.</summary>
public sealed class CpuIndexingTests
{
    [Fact]
    public void IndexSelectOnEveryDimAndDtype()
    {
        var (x, d) = F64([4, 5, 3], 50);
        var idx = Tensor.FromArray([2L, 0, 2, 4]);
        var got = x.IndexSelect(1, idx).ToArray<double>();
        long[] sel = [2, 0, 2, 4];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) for (int k = 0; k < 3; k++)
                Assert.Equal(d[(i * 5 + sel[j]) * 3 + k], got[(i * 4 + j) * 3 + k]);
        var tokens = Tensor.FromArray([10L, 20, 30]);
        Assert.Equal([30L, 10], tokens.IndexSelect(0, Tensor.FromArray([2L, 0])).ToArray<long>());
        var mask = Tensor.FromArray([true, false, true]);
        Assert.Equal([false, true], mask.IndexSelect(0, Tensor.FromArray([1L, 2])).ToArray<bool>());
        Assert.Equal([30L, 20, 10], tokens.Flip(0).ToArray<long>());
        Assert.Throws<IndexOutOfRangeException>(() => tokens.IndexSelect(0, Tensor.FromArray([3L], 1)));
    }

    [Fact]
    public void GatherAndScatterAddAreInverse()
    {
        var (x, d) = F32([3, 6], 51);
        var idx = Tensor.FromArray([5L, 0, 1, 1, 2, 3], 3, 2);
        var g = x.Gather(1, idx).ToArray<float>();
        long[] iv = [5, 0, 1, 1, 2, 3];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 2; c++) Assert.Equal((float)d[r * 6 + iv[r * 2 + c]], g[r * 2 + c]);
        var src = Tensor.Ones([3, 2]);
        var s = Tensor.Zeros([3, 6]).ScatterAdd(1, idx, src).ToArray<float>();
        var expected = new float[18];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 2; c++) expected[r * 6 + iv[r * 2 + c]] += 1;
        Assert.Equal(expected, s);
        // gather along dim 0 of a transposed view, Int64 payload
        var l = Tensor.FromArray([1L, 2, 3, 4, 5, 6], 2, 3).T; // [[1,4],[2,5],[3,6]]
        Assert.Equal([2L, 4], l.Gather(0, Tensor.FromArray([1L, 0], 1, 2)).ToArray<long>());
        // cross-entropy uses gather + log-softmax
        var logits = Tensor.FromArray([1f, 2f, 3f, 1f, 1f, 1f], 2, 3);
        var loss = Tensor.CrossEntropy(logits, Tensor.FromArray([2L, 0])).Item<float>();
        double l0 = -(3 - Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3))), l1 = Math.Log(3);
        Assert.Equal((l0 + l1) / 2, loss, 5);
    }

    [Fact]
    public void IndexAddAccumulatesRepeatedIndices()
    {
        var x = Tensor.Zeros([3, 4], DType.Float64);
        var src = Tensor.FromArray(Enumerable.Range(1, 12).Select(v => (double)v).ToArray(), 3, 4);
        var r = x.IndexAdd(1, Tensor.FromArray([1L, 1, 3, 0]), src).ToArray<double>();
        Assert.Equal([4.0, 3, 0, 3, 8, 11, 0, 7, 12, 19, 0, 11], r);
        var rows = Tensor.Zeros([2, 3], DType.Int64).IndexAdd(0, Tensor.FromArray([1L, 1]), Tensor.FromArray([1L, 2, 3, 4, 5, 6], 2, 3));
        Assert.Equal([0L, 0, 0, 5, 7, 9], rows.ToArray<long>());
    }

    [Fact]
    public void ConcatAndStackAlongEachDim()
    {
        var (a, da) = F32([2, 3], 52);
        var (b, db) = F32([2, 4], 53);
        var c = Tensor.Concat([a, b], 1).ToArray<float>();
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++) Assert.Equal((float)da[i * 3 + j], c[i * 7 + j]);
            for (int j = 0; j < 4; j++) Assert.Equal((float)db[i * 4 + j], c[i * 7 + 3 + j]);
        }
        var s = Tensor.Stack([a, a.T.T, a * 2.0], 0);
        Assert.Equal([3L, 2, 3], s.Shape);
        Assert.Equal((float)(da[5] * 2), s.ToArray<float>()[17]);
        var bools = Tensor.Concat([Tensor.FromArray([true], 1), Tensor.FromArray([false, true])]);
        Assert.Equal([true, false, true], bools.ToArray<bool>());
    }

    [Fact]
    public void SortIsStableAndTopKMatchesReference()
    {
        var x = Tensor.FromArray([3f, 1f, 2f, 1f, float.NaN, 3f]);
        var (v, i) = x.Sort();
        Assert.Equal([1L, 3, 2, 0, 5, 4], i.ToArray<long>());
        Assert.True(float.IsNaN(v.ToArray<float>()[5]));
        var (vd, id) = x.Sort(descending: true);
        Assert.Equal([4L, 0, 5, 2, 1, 3], id.ToArray<long>());
        var (x2, d2) = F64([7, 300], 54);
        foreach (int k in new[] { 1, 5, 100, 300 })
        {
            var (tv, ti) = x2.TopK(k, -1);
            var tvs = tv.ToArray<double>(); var tis = ti.ToArray<long>();
            for (int r = 0; r < 7; r++)
            {
                var order = Enumerable.Range(0, 300).OrderByDescending(j => d2[r * 300 + j]).ThenBy(j => j).Take(k).ToArray();
                for (int j = 0; j < k; j++) { Assert.Equal(order[j], tis[r * k + j]); Assert.Equal(d2[r * 300 + order[j]], tvs[r * k + j]); }
            }
        }
        var (sv, si) = x2.T.TopK(2, 0, largest: false); // along dim 0 of a transposed view -> [2, 7]
        Assert.Equal([2L, 7], sv.Shape);
        for (int r = 0; r < 7; r++)
        {
            var order = Enumerable.Range(0, 300).OrderBy(j => d2[r * 300 + j]).Take(2).ToArray();
            Assert.Equal(order[0], si.ToArray<long>()[r]);
            Assert.Equal(order[1], si.ToArray<long>()[7 + r]);
        }
        Assert.Equal([9L, 7, 5], Tensor.FromArray([5L, 9, 7]).Sort(descending: true).Values.ToArray<long>());
    }
}
