using MechInterp.Tests.Torch;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>
/// The causal-attention product that skips the hidden half (<c>IBackend.CausalMatMul</c>) against the full
/// <see cref="Tensor.MatMul"/>: the visible entries of q·kᵀ, and the whole of pattern·v for a pattern whose hidden
/// entries are zero. Row groups (grouped-query attention), a key offset (a KV cache), group lengths that are not a
/// multiple of the 64-row block (last blocks of 2 and 22 rows), and short groups that take the full product.
/// </summary>
public sealed class CausalMatMulTests
{
    public static TheoryData<int, int, int, int> Shapes() => new()
    {
        // rows per group (queries), groups, offset (cached keys), batch
        { 150, 1, 0, 1 }, { 150, 2, 0, 3 }, { 130, 2, 7, 2 }, { 200, 1, 40, 1 }, { 65, 3, 1, 2 }, { 40, 2, 5, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void VisibleScoresAndMaskedProductsEqualTheFullProduct(int p, int groups, int offset, int batch)
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        const int dh = 24;
        int kv = p + offset;
        var q = ParityHarness.Randn(Device.Cpu, 1, batch, groups * p, dh);
        var kt = ParityHarness.Randn(Device.Cpu, 2, batch, kv, dh).Transpose(-2, -1); // a transposed view, as attention passes it
        var full = q.MatMul(kt).ToArray<float>();
        var causal = q.CausalMatMul(kt, p, offset, inputMasked: false).ToArray<float>();
        for (int bi = 0; bi < batch; bi++)
            for (int r = 0; r < groups * p; r++)
                for (int j = 0; j <= r % p + offset; j++)
                {
                    long at = ((long)bi * groups * p + r) * kv + j;
                    Assert.True(Math.Abs(full[at] - causal[at]) <= 1e-5f * (1 + Math.Abs(full[at])), $"score [{bi}, {r}, {j}]: {full[at]} vs {causal[at]}");
                }

        // A pattern with exact zeros past each row's last visible key.
        var values = ParityHarness.Randn(Device.Cpu, 3, batch, groups * p, kv).ToArray<float>();
        for (int bi = 0; bi < batch; bi++)
            for (int r = 0; r < groups * p; r++)
                for (int j = r % p + offset + 1; j < kv; j++) values[((long)bi * groups * p + r) * kv + j] = 0f;
        var pattern = Tensor.FromArray(values, batch, groups * p, kv);
        var v = ParityHarness.Randn(Device.Cpu, 4, batch, kv, dh);
        ParityHarness.AssertClose($"pattern·v p={p} groups={groups} offset={offset}", pattern.MatMul(v).ToArray<double>(),
            pattern.CausalMatMul(v, p, offset, inputMasked: true).ToArray<double>(), 1e-5, 1e-5);
    }

    [Fact]
    public void RefusesGradientsAndMismatchedOperands()
    {
        using var scope = Tensor.Scope();
        var a = Tensor.Randn([2, 100, 8], new Generator(1));
        var b = Tensor.Randn([2, 8, 100], new Generator(2));
        Assert.Throws<ArgumentException>(() => a.CausalMatMul(Tensor.Randn([3, 8, 100], new Generator(3)), 100, 0, false));
        Assert.Throws<ArgumentException>(() => a.CausalMatMul(b.To(DType.Float64), 100, 0, false));
        a.RequiresGrad = true;
        Assert.Throws<InvalidOperationException>(() => a.CausalMatMul(b, 100, 0, false));
    }
}
