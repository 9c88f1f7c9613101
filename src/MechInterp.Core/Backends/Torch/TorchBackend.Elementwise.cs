using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

internal sealed partial class TorchBackend
{
    /// <inheritdoc />
    public TensorHandle Unary(UnaryOp op, TensorHandle x)
    {
        var t = T(x);
        if (op == UnaryOp.LogicalNot)
        {
            if (x.DType == DType.Bool) return Wrap(t.logical_not());
            using var b = t.to_type(torch.ScalarType.Bool);
            return Wrap(b.logical_not());
        }
        if (!x.DType.IsFloatingPoint() && !IntegerClosed(op))
        {
            // Float-only math on integers: compute in float64 and convert back (truncating), like (T)f((double)x).
            using var d = t.to_type(torch.ScalarType.Float64);
            using var r = UnaryCore(op, d);
            return Wrap(r.to_type(TorchDTypes.ToTorch(x.DType)));
        }
        return Wrap(UnaryCore(op, t));
    }

    private static bool IntegerClosed(UnaryOp op) => op is UnaryOp.Neg or UnaryOp.Abs or UnaryOp.Relu or UnaryOp.Sign or UnaryOp.Square;

    private static TTensor UnaryCore(UnaryOp op, TTensor t) => op switch
    {
        UnaryOp.Neg => t.neg(),
        UnaryOp.Abs => t.abs(),
        UnaryOp.Exp => t.exp(),
        UnaryOp.Log => t.log(),
        UnaryOp.Sqrt => t.sqrt(),
        UnaryOp.Rsqrt => t.rsqrt(),
        UnaryOp.Tanh => t.tanh(),
        UnaryOp.Sigmoid => t.sigmoid(),
        UnaryOp.Relu => t.relu(),
        UnaryOp.Gelu => t.gelu(TorchSharp.Modules.GELU.Approximate.none),
        UnaryOp.GeluTanh => t.gelu(TorchSharp.Modules.GELU.Approximate.tanh),
        UnaryOp.Silu => t.silu(),
        UnaryOp.Sign => t.sign(),
        UnaryOp.Sin => t.sin(),
        UnaryOp.Cos => t.cos(),
        UnaryOp.Square => t.square(),
        UnaryOp.Reciprocal => t.reciprocal(),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown unary op"),
    };

    /// <inheritdoc />
    public TensorHandle Binary(BinaryOp op, TensorHandle a, TensorHandle b)
    {
        var ta = T(a);
        var tb = T(b);
        ShapeUtil.Broadcast(a.Shape, b.Shape); // throws naming both shapes before libtorch sees them
        return Wrap(BinaryCore(op, ta, tb, a.DType));
    }

    private static TTensor BinaryCore(BinaryOp op, TTensor a, TTensor b, DType dtype) => op switch
    {
        BinaryOp.Add => a.add(b),
        BinaryOp.Sub => dtype == DType.Bool ? a.logical_xor(b) : a.sub(b),
        BinaryOp.Mul => a.mul(b),
        // Integer division truncates toward zero (C# semantics), floating division is true division.
        BinaryOp.Div => dtype.IsFloatingPoint() ? a.div(b) : a.div(b, torch.RoundingMode.trunc),
        BinaryOp.Pow => a.pow(b),
        BinaryOp.Maximum => a.maximum(b),
        BinaryOp.Minimum => a.minimum(b),
        BinaryOp.Eq => a.eq(b),
        BinaryOp.Ne => a.ne(b),
        BinaryOp.Lt => a.lt(b),
        BinaryOp.Le => a.le(b),
        BinaryOp.Gt => a.gt(b),
        BinaryOp.Ge => a.ge(b),
        BinaryOp.And => a.logical_and(b),
        BinaryOp.Or => a.logical_or(b),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown binary op"),
    };

    private static bool IsComparison(BinaryOp op) => op is BinaryOp.Eq or BinaryOp.Ne or BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge or BinaryOp.And or BinaryOp.Or;

    /// <inheritdoc />
    public TensorHandle BinaryScalar(BinaryOp op, TensorHandle x, double scalar, bool scalarFirst)
    {
        var t = T(x);
        var dtype = x.DType;
        bool exact = dtype.IsFloatingPoint() || (TorchDTypes.IsIntegral(scalar) && (dtype != DType.Bool || scalar is 0 or 1));
        if (exact)
        {
            // A 0-dim tensor of x's dtype: the result keeps x's dtype, as the front end expects.
            using var sv = TorchDTypes.ScalarFor(scalar, dtype);
            using var s = torch.full(Array.Empty<long>(), sv, TorchDTypes.ToTorch(dtype), _torchDevice);
            return Wrap(scalarFirst ? BinaryCore(op, s, t, dtype) : BinaryCore(op, t, s, dtype));
        }
        // Integer (or Bool) tensor with a fractional scalar: compute in float64; arithmetic converts back (truncating).
        using var d = t.to_type(torch.ScalarType.Float64);
        using var dv = (Scalar)scalar;
        using var sd = torch.full(Array.Empty<long>(), dv, torch.ScalarType.Float64, _torchDevice);
        var r = scalarFirst ? BinaryCore(op, sd, d, DType.Float64) : BinaryCore(op, d, sd, DType.Float64);
        if (IsComparison(op)) return Wrap(r);
        using (r) return Wrap(r.to_type(TorchDTypes.ToTorch(dtype)));
    }

    /// <inheritdoc />
    public TensorHandle Clamp(TensorHandle x, double? min, double? max)
    {
        var t = T(x);
        if (min is null && max is null) return Wrap(t.clone());
        if (!x.DType.IsFloatingPoint())
        {
            // Bounds round toward the inside of the range for integer tensors.
            long? lo = min is { } m ? (long)Math.Ceiling(m) : null;
            long? hi = max is { } M ? (long)Math.Floor(M) : null;
            using var los = lo is { } l ? TorchDTypes.ScalarFor(l, x.DType) : null;
            using var his = hi is { } h ? TorchDTypes.ScalarFor(h, x.DType) : null;
            return Wrap(t.clamp(los, his));
        }
        using var smin = min is { } a ? (Scalar)a : null;
        using var smax = max is { } b ? (Scalar)b : null;
        return Wrap(t.clamp(smin, smax));
    }

    /// <inheritdoc />
    public TensorHandle Where(TensorHandle cond, TensorHandle a, TensorHandle b)
    {
        var tc = T(cond);
        var ta = T(a);
        var tb = T(b);
        ShapeUtil.Broadcast(ShapeUtil.Broadcast(cond.Shape, a.Shape), b.Shape);
        if (cond.DType == DType.Bool) return Wrap(torch.where(tc, ta, tb));
        using var c = tc.to_type(torch.ScalarType.Bool);
        return Wrap(torch.where(c, ta, tb));
    }
}
