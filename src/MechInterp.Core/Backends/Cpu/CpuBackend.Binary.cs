using System.Numerics;
using System.Numerics.Tensors;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle Binary(BinaryOp op, TensorHandle a, TensorHandle b)
    {
        CpuHandle ha = H(a), hb = H(b);
        if (ha.DType != hb.DType)
            throw new ArgumentException($"Binary {op}: operand dtypes differ ({ha.DType} and {hb.DType}); promote them to one dtype first");
        var shape = ShapeUtil.Broadcast(ha.ShapeArray, hb.ShapeArray);
        var outType = IsComparison(op) ? DType.Bool : ha.DType;
        if (op is BinaryOp.And or BinaryOp.Or && ha.DType != DType.Bool)
            throw Unsupported($"Binary {op}", ha.DType, "logical ops need Bool tensors; convert with .To(DType.Bool)");
        switch (ha.DType)
        {
            case DType.Float32: return BinaryTyped<float>(op, ha, hb, shape, outType);
            case DType.Float64: return BinaryTyped<double>(op, ha, hb, shape, outType);
            case DType.Int64: return BinaryTyped<long>(op, ha, hb, shape, outType);
            case DType.Int32: return BinaryTyped<int>(op, ha, hb, shape, outType);
            case DType.UInt8: return BinaryTyped<byte>(op, ha, hb, shape, outType);
            case DType.Bool:
                var boolOp = op switch
                {
                    BinaryOp.Add or BinaryOp.Or or BinaryOp.Maximum => BinaryOp.Maximum,
                    BinaryOp.Mul or BinaryOp.And or BinaryOp.Minimum => BinaryOp.Minimum,
                    _ when IsComparison(op) => op,
                    _ => throw Unsupported($"Binary {op}", DType.Bool, "convert the Bool tensor to a number type with .To(DType.Int64) or .To(DType.Float32)"),
                };
                return BinaryTyped<byte>(boolOp, ha, hb, shape, outType);
            default: throw Unsupported($"Binary {op}", ha.DType);
        }
    }

    /// <inheritdoc />
    public TensorHandle BinaryScalar(BinaryOp op, TensorHandle x, double scalar, bool scalarFirst)
    {
        var h = H(x);
        var dtype = h.DType;
        bool cmp = IsComparison(op);
        bool logical = op is BinaryOp.And or BinaryOp.Or or BinaryOp.Maximum or BinaryOp.Minimum;
        DType? promote = null;
        if (!dtype.IsFloatingPoint() && !Representable(scalar, dtype)) promote = cmp ? DType.Float64 : DType.Float32;
        else if (dtype == DType.Bool && !cmp && !logical) promote = DType.Int64;
        if (dtype is DType.Float16 or DType.BFloat16) throw Unsupported($"Binary {op}", dtype);
        var xs = promote is { } p ? (CpuHandle)Cast(h, p) : h;
        try
        {
            using var s = (CpuHandle)Full([], xs.DType, scalar);
            return scalarFirst ? Binary(op, s, xs) : Binary(op, xs, s);
        }
        finally { Release(xs, h); }
    }

    private static bool Representable(double v, DType dtype) => dtype switch
    {
        DType.Bool => v is 0 or 1,
        DType.UInt8 => v >= 0 && v <= 255 && Math.Floor(v) == v,
        DType.Int32 => v >= int.MinValue && v <= int.MaxValue && Math.Floor(v) == v,
        DType.Int64 => v >= -9.2233720368547758e18 && v < 9.2233720368547758e18 && Math.Floor(v) == v,
        _ => true,
    };

    private static CpuHandle BinaryTyped<T>(BinaryOp op, CpuHandle a, CpuHandle b, long[] shape, DType outType) where T : unmanaged, INumber<T>
    {
        var result = CpuHandle.Allocate(outType, shape);
        var plan = StridedPlan.ForOutput(shape, a, b);
        long sa = plan.InnerStride(1), sb = plan.InnerStride(2);
        CpuStorage As = a.Storage, Bs = b.Storage, Os = result.Storage;
        bool cmp = IsComparison(op);
        plan.Run((offs, n) =>
        {
            var av = As.Span<T>(); var bv = Bs.Span<T>();
            if (cmp) CompareRow(op, av, offs[1], sa, bv, offs[2], sb, Os.Span<byte>().Slice((int)offs[0], n));
            else ArithRow(op, av, offs[1], sa, bv, offs[2], sb, Os.Span<T>().Slice((int)offs[0], n));
        }, ElementwiseThreshold);
        return result;
    }

    private static void ArithRow<T>(BinaryOp op, ReadOnlySpan<T> av, long oa, long sa, ReadOnlySpan<T> bv, long ob, long sb, Span<T> d) where T : unmanaged, INumber<T>
    {
        int n = d.Length;
        if (op == BinaryOp.Pow) { PowRow(av, oa, sa, bv, ob, sb, d); return; }
        if (sa == 1 && sb == 1)
        {
            ReadOnlySpan<T> x = av.Slice((int)oa, n), y = bv.Slice((int)ob, n);
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(x, y, d); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, d); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, d); return;
                case BinaryOp.Div: TensorPrimitives.Divide(x, y, d); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(x, y, d); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(x, y, d); return;
            }
        }
        else if (sa == 1 && sb == 0)
        {
            ReadOnlySpan<T> x = av.Slice((int)oa, n);
            T y = bv[(int)ob];
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(x, y, d); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, d); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(x, y, d); return;
                case BinaryOp.Div: TensorPrimitives.Divide(x, y, d); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(x, y, d); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(x, y, d); return;
            }
        }
        else if (sa == 0 && sb == 1)
        {
            T x = av[(int)oa];
            ReadOnlySpan<T> y = bv.Slice((int)ob, n);
            switch (op)
            {
                case BinaryOp.Add: TensorPrimitives.Add(y, x, d); return;
                case BinaryOp.Sub: TensorPrimitives.Subtract(x, y, d); return;
                case BinaryOp.Mul: TensorPrimitives.Multiply(y, x, d); return;
                case BinaryOp.Div: TensorPrimitives.Divide(x, y, d); return;
                case BinaryOp.Maximum: TensorPrimitives.Max(y, x, d); return;
                case BinaryOp.Minimum: TensorPrimitives.Min(y, x, d); return;
            }
        }
        for (int i = 0; i < n; i++)
        {
            T x = av[(int)(oa + i * sa)], y = bv[(int)(ob + i * sb)];
            d[i] = op switch
            {
                BinaryOp.Add => x + y,
                BinaryOp.Sub => x - y,
                BinaryOp.Mul => x * y,
                BinaryOp.Div => x / y,
                BinaryOp.Maximum => T.IsNaN(x) || T.IsNaN(y) ? x + y : T.Max(x, y),
                BinaryOp.Minimum => T.IsNaN(x) || T.IsNaN(y) ? x + y : T.Min(x, y),
                _ => throw Unsupported($"Binary {op}", DType.Float32),
            };
        }
    }

    private static void PowRow<T>(ReadOnlySpan<T> av, long oa, long sa, ReadOnlySpan<T> bv, long ob, long sb, Span<T> d) where T : unmanaged, INumber<T>
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException("Pow is only supported for Float32 and Float64 tensors on the managed CPU backend: convert with .To(DType.Float32)");
        for (int i = 0; i < d.Length; i++)
        {
            double x = double.CreateTruncating(av[(int)(oa + i * sa)]), y = double.CreateTruncating(bv[(int)(ob + i * sb)]);
            d[i] = T.CreateTruncating(y == 2 ? x * x : Math.Pow(x, y));
        }
    }

    private static void CompareRow<T>(BinaryOp op, ReadOnlySpan<T> av, long oa, long sa, ReadOnlySpan<T> bv, long ob, long sb, Span<byte> d) where T : unmanaged, INumber<T>
    {
        int n = d.Length;
        for (int i = 0; i < n; i++)
        {
            T x = av[(int)(oa + i * sa)], y = bv[(int)(ob + i * sb)];
            bool r = op switch
            {
                BinaryOp.Eq => x == y,
                BinaryOp.Ne => x != y,
                BinaryOp.Lt => x < y,
                BinaryOp.Le => x <= y,
                BinaryOp.Gt => x > y,
                _ => x >= y,
            };
            d[i] = r ? (byte)1 : (byte)0;
        }
    }

    /// <inheritdoc />
    public TensorHandle Where(TensorHandle cond, TensorHandle a, TensorHandle b)
    {
        CpuHandle hc = H(cond), ha = H(a), hb = H(b);
        if (hc.DType is not (DType.Bool or DType.UInt8))
            throw new ArgumentException($"Where: the condition must be a Bool tensor, got {hc.DType}; compare first (e.g. x > 0)");
        if (ha.DType != hb.DType)
            throw new ArgumentException($"Where: value dtypes differ ({ha.DType} and {hb.DType}); promote them to one dtype first");
        var shape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(hc.ShapeArray, ha.ShapeArray), hb.ShapeArray);
        return ha.DType.ElementSize() switch
        {
            1 => WhereTyped<byte>(hc, ha, hb, shape),
            2 => WhereTyped<ushort>(hc, ha, hb, shape),
            4 => WhereTyped<int>(hc, ha, hb, shape),
            _ => WhereTyped<long>(hc, ha, hb, shape),
        };
    }

    private static CpuHandle WhereTyped<T>(CpuHandle c, CpuHandle a, CpuHandle b, long[] shape) where T : unmanaged
    {
        var result = CpuHandle.Allocate(a.DType, shape);
        var plan = StridedPlan.ForOutput(shape, c, a, b);
        long sc = plan.InnerStride(1), sa = plan.InnerStride(2), sb = plan.InnerStride(3);
        CpuStorage Cs = c.Storage, As = a.Storage, Bs = b.Storage, Os = result.Storage;
        plan.Run((offs, n) =>
        {
            var cv = Cs.Span<byte>(); var av = As.Span<T>(); var bv = Bs.Span<T>();
            var d = Os.Span<T>().Slice((int)offs[0], n);
            long oc = offs[1], oa = offs[2], ob = offs[3];
            for (int i = 0; i < n; i++)
                d[i] = cv[(int)(oc + i * sc)] != 0 ? av[(int)(oa + i * sa)] : bv[(int)(ob + i * sb)];
        }, ElementwiseThreshold);
        return result;
    }
}
