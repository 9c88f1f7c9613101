using Xunit;
using static MechInterp.Tests.Cpu.CpuTestUtil;

namespace MechInterp.Tests.Cpu;

/// <summary>Binary ops with NumPy broadcasting, strided operands, scalars, integer and Bool dtypes.</summary>
public sealed class CpuBinaryTests
{
    public static TheoryData<long[], long[]> Shapes() => new()
    {
        { [5, 7], [5, 7] },          // same shape
        { [5, 7], [1] },             // scalar-like
        { [3, 5, 7], [7] },          // row broadcast
        { [3, 5, 7], [5, 1] },       // column broadcast
        { [4, 1, 6], [1, 5, 1] },    // outer product style
        { [], [2, 3] },              // 0-d
        { [2, 64, 700], [64, 1] },   // large, multithreaded
    };

    private static readonly (string Name, Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Ref)[] Ops =
    [
        ("add", (a, b) => a + b, (x, y) => x + y),
        ("sub", (a, b) => a - b, (x, y) => x - y),
        ("mul", (a, b) => a * b, (x, y) => x * y),
        ("div", (a, b) => a / b, (x, y) => x / y),
        ("max", Tensor.Maximum, Math.Max),
        ("min", Tensor.Minimum, Math.Min),
        ("pow", (a, b) => a.Abs().Pow(b), (x, y) => Math.Pow(Math.Abs(x), y)),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ArithmeticBroadcastsBothWays(long[] sa, long[] sb)
    {
        var (a, da) = F64(sa, 20, 3);
        var (b, db) = F64(sb, 21, 3);
        foreach (var (name, op, f) in Ops)
        {
            Close(RefBinary(da, sa, db, sb, f, out var shape), Values(op(a, b)), 1e-14, 1e-14, $"{name} a.b");
            Close(RefBinary(db, sb, da, sa, f, out _), Values(op(b, a)), 1e-14, 1e-14, $"{name} b.a");
            Assert.Equal(shape, op(a, b).Shape);
        }
        var (a32, d32) = F32(sa, 22, 3);
        var (b32, e32) = F32(sb, 23, 3);
        Close(RefBinary(d32, sa, e32, sb, (x, y) => x * y + x, out _), Values(a32 * b32 + a32), 1e-6, 1e-6, "f32 mul-add");
    }

    [Fact]
    public void StridedOperandsAndComparisons()
    {
        var (a, da) = F32([6, 9], 24);
        var (b, db) = F32([9, 6], 25);
        var at = Transpose(da, 6, 9); // a.T as row-major [9, 6]
        var bStep = b.Slice(0, 0, 9, 2); // rows 0,2,4,6,8 -> [5, 6]
        var dbStep = Enumerable.Range(0, 5).SelectMany(i => db.Skip(i * 2 * 6).Take(6)).ToArray();
        var aT = a.T.Slice(0, 1, 10, 2); // rows 1,3,5,7 of a.T -> [4, 6]
        var daT = Enumerable.Range(0, 4).SelectMany(i => at.Skip((1 + 2 * i) * 6).Take(6)).ToArray();
        var lhs = aT.Unsqueeze(1); // [4,1,6]
        var rhs = bStep;           // [5,6]
        Close(RefBinary(daT, [4, 1, 6], dbStep, [5, 6], (x, y) => x - y, out _), Values(lhs - rhs), 1e-7, 1e-7, "strided sub");
        var lt = (lhs < rhs).ToArray<bool>();
        var expected = RefBinary(daT, [4, 1, 6], dbStep, [5, 6], (x, y) => x < y ? 1 : 0, out _);
        Assert.Equal(expected.Select(v => v == 1).ToArray(), lt);
        Assert.Equal(DType.Bool, (lhs >= rhs).DType);
        var same = a;
        var eq = (a == same.Clone()).ToArray<bool>();
        Assert.All(eq, Assert.True);
    }

    [Fact]
    public void ScalarOpsOnBothSides()
    {
        var (x, d) = F64([3, 4], 26, 2);
        Close(d.Select(v => 2.5 - v).ToArray(), Values(2.5 - x), 1e-15, 0, "rsub");
        Close(d.Select(v => 3 / v).ToArray(), Values(3.0 / x), 1e-15, 0, "rdiv");
        Close(d.Select(v => v * v * v).ToArray(), Values(x.Pow(3)), 1e-14, 1e-15, "pow3");
        Assert.Equal(d.Select(v => v > 0.25).ToArray(), (x > 0.25).ToArray<bool>());
        Assert.Equal(d.Select(v => v != d[0]).ToArray(), (x != d[0]).ToArray<bool>());
    }

    [Fact]
    public void IntegerArithmeticTruncatesAndComparesExactly()
    {
        var a = Tensor.FromArray([7L, -7, 9, long.MaxValue - 1]);
        var b = Tensor.FromArray([2L, 2, -4, 1]);
        Assert.Equal([9L, -5, 5, long.MaxValue], (a + b).ToArray<long>());
        Assert.Equal([3L, -3, -2, long.MaxValue - 1], (a / b).ToArray<long>());
        Assert.Equal([14L, -14, -36, long.MaxValue - 1], (a * b).ToArray<long>());
        Assert.Equal([7L, 2, 9, long.MaxValue - 1], Tensor.Maximum(a, b).ToArray<long>());
        Assert.Equal([false, false, true, true], (a > 8.0).ToArray<bool>());
        var i32 = Tensor.FromArray([1, 2, 3]);
        Assert.Equal([3, 4, 5], (i32 + 2.0).ToArray<int>());
        Assert.Equal(DType.Float32, (i32 * 0.5).DType);
        Assert.Equal([0.5f, 1f, 1.5f], (i32 * 0.5).ToArray<float>());
        Assert.Equal([false, true, true], (i32 > 1.5).ToArray<bool>());
        var u8 = Tensor.FromArray(new byte[] { 1, 200 }, [2], DType.UInt8, Device.Cpu);
        Assert.Equal(new byte[] { 201, 144 }, (u8 + Tensor.FromArray(new byte[] { 200, 200 }, [2], DType.UInt8, Device.Cpu)).ToArray<byte>());
    }

    [Fact]
    public void BoolLogicBroadcasts()
    {
        var a = Tensor.FromArray([true, false, true, false], 2, 2);
        var b = Tensor.FromArray([true, false], 2, 1);
        Assert.Equal([true, false, false, false], (a & b).ToArray<bool>());
        Assert.Equal([true, true, true, false], (a | b).ToArray<bool>());
        Assert.Equal([true, false, false, true], (a == b).ToArray<bool>());
        Assert.Equal(DType.Int64, (a + 1.0).DType);
        Assert.Equal([2L, 1, 2, 1], (a + 1.0).ToArray<long>());
    }

    [Fact]
    public void WhereBroadcastsAllThreeOperandsForEveryElementSize()
    {
        var cond = Tensor.FromArray([true, false, true], 3, 1);
        var (a, da) = F32([1, 4], 27);
        var (b, db) = F32([3, 4], 28);
        var got = Tensor.Where(cond, a, b).ToArray<float>();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 4; j++)
            Assert.Equal((float)(i != 1 ? da[j] : db[i * 4 + j]), got[i * 4 + j]);
        var l = Tensor.Where(cond.T, Tensor.FromArray([1L, 2, 3]), Tensor.FromArray([-1L]));
        Assert.Equal([1L, -1, 3], l.ToArray<long>());
        var bits = Tensor.Where(cond.Squeeze(), Tensor.FromArray([true, true, true]), Tensor.FromArray([false, false, false]));
        Assert.Equal([true, false, true], bits.ToArray<bool>());
        var m = Tensor.FromArray([1f, 2f, 3f]).MaskedFill(cond.Squeeze(), -1e9);
        Assert.Equal([-1e9f, 2f, -1e9f], m.ToArray<float>());
    }
}
