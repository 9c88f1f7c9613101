using MechInterp.Autograd;
using MechInterp.Backends;

namespace MechInterp;

public sealed partial class Tensor
{
    internal static void CheckSameDevice(Tensor a, Tensor b, string op)
    {
        if (a.Device != b.Device)
            throw new InvalidOperationException($"{op}: tensors are on different devices ({a.Device} and {b.Device}); move one with .To(device)");
    }

    private static (Tensor A, Tensor B) Promote(Tensor a, Tensor b, string op)
    {
        CheckSameDevice(a, b, op);
        if (a.DType == b.DType) return (a, b);
        var t = DTypeExtensions.Promote(a.DType, b.DType);
        return (a.To(t), b.To(t));
    }

    private static Tensor BinaryCore(BinaryOp op, Tensor a, Tensor b)
    {
        (a, b) = Promote(a, b, op.ToString());
        ShapeUtil.Broadcast(a.Shape, b.Shape); // validates, names both shapes
        return new Tensor(a.Backend.Binary(op, a.Handle, b.Handle));
    }

    /// <summary>A unary op; its backward reads the input, or the result when <paramref name="savesResult"/>.</summary>
    private Tensor UnaryCore(UnaryOp op, BackwardFn? backward = null, bool savesResult = false)
    {
        var result = new Tensor(Backend.Unary(op, Handle));
        if (backward is not null) AutogradRecorder.Record(result, op.ToString().ToLowerInvariant(), [this], backward, [savesResult ? result : this]);
        return result;
    }

    private Tensor ScalarCore(BinaryOp op, double s, bool scalarFirst) => new(Backend.BinaryScalar(op, Handle, s, scalarFirst));

    /// <summary>Fused activation backward (<see cref="IBackend.UnaryBackward"/>): <paramref name="grad"/> mapped through
    /// the derivative of <paramref name="op"/> at this tensor, in one pass (no mask or sign temporaries).</summary>
    private Tensor ActivationGrad(UnaryGradOp op, Tensor grad)
    {
        CheckSameDevice(this, grad, op.ToString());
        var g = grad.To(DType);
        if (!DType.IsFloatingPoint()) throw new InvalidOperationException($"{op} backward needs a floating-point tensor, got {DType}");
        return new Tensor(Backend.UnaryBackward(op, g.Handle, Handle));
    }

    // ---------- arithmetic with gradients ----------

    /// <summary>Element-wise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b)
    {
        var r = BinaryCore(BinaryOp.Add, a, b);
        long[] sa = a.Shape, sb = b.Shape;
        AutogradRecorder.Record(r, "add", [a, b], g => [g.SumToShape(sa), g.SumToShape(sb)]);
        return r;
    }

    /// <summary>Element-wise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b)
    {
        var r = BinaryCore(BinaryOp.Sub, a, b);
        long[] sa = a.Shape, sb = b.Shape;
        AutogradRecorder.Record(r, "sub", [a, b], g => [g.SumToShape(sa), (-g).SumToShape(sb)]);
        return r;
    }

    /// <summary>Element-wise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b)
    {
        var r = BinaryCore(BinaryOp.Mul, a, b);
        AutogradRecorder.Record(r, "mul", [a, b], g => [(g * b).SumToShape(a.Shape), (g * a).SumToShape(b.Shape)], [a, b]);
        return r;
    }

    /// <summary>Element-wise quotient with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b)
    {
        var r = BinaryCore(BinaryOp.Div, a, b);
        AutogradRecorder.Record(r, "div", [a, b], g => [(g / b).SumToShape(a.Shape), (-g * a / (b * b)).SumToShape(b.Shape)], [a, b]);
        return r;
    }

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => a.UnaryCore(UnaryOp.Neg, g => [-g]);

    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(Tensor a, double s) { var r = a.ScalarCore(BinaryOp.Add, s, false); AutogradRecorder.Record(r, "add_scalar", [a], g => [g]); return r; }
    /// <summary>Adds a scalar.</summary>
    public static Tensor operator +(double s, Tensor a) => a + s;
    /// <summary>Subtracts a scalar.</summary>
    public static Tensor operator -(Tensor a, double s) => a + (-s);
    /// <summary>Scalar minus tensor.</summary>
    public static Tensor operator -(double s, Tensor a) { var r = a.ScalarCore(BinaryOp.Sub, s, true); AutogradRecorder.Record(r, "rsub_scalar", [a], g => [-g]); return r; }
    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(Tensor a, double s) { var r = a.ScalarCore(BinaryOp.Mul, s, false); AutogradRecorder.Record(r, "mul_scalar", [a], g => [g * s]); return r; }
    /// <summary>Multiplies by a scalar.</summary>
    public static Tensor operator *(double s, Tensor a) => a * s;
    /// <summary>Divides by a scalar.</summary>
    public static Tensor operator /(Tensor a, double s) { var r = a.ScalarCore(BinaryOp.Div, s, false); AutogradRecorder.Record(r, "div_scalar", [a], g => [g / s]); return r; }
    /// <summary>Scalar divided by tensor.</summary>
    public static Tensor operator /(double s, Tensor a) { var r = a.ScalarCore(BinaryOp.Div, s, true); AutogradRecorder.Record(r, "rdiv_scalar", [a], g => [-g * s / (a * a)], [a]); return r; }

    /// <summary>Element-wise power with a scalar exponent.</summary>
    public Tensor Pow(double exponent)
    {
        var r = ScalarCore(BinaryOp.Pow, exponent, false);
        var x = this;
        AutogradRecorder.Record(r, "pow", [x], g => [exponent == 0 ? ZerosLike(g) : g * exponent * x.Pow(exponent - 1)], [x]);
        return r;
    }

    /// <summary>Element-wise power with a tensor exponent (broadcasting).</summary>
    public Tensor Pow(Tensor exponent)
    {
        var a = this;
        var r = BinaryCore(BinaryOp.Pow, a, exponent);
        AutogradRecorder.Record(r, "pow", [a, exponent], g =>
        {
            // As PyTorch: no base gradient where the exponent is 0, and 0^e·log(0) is taken as 0 for e >= 0.
            var da = Where(exponent == 0, ZerosLike(g), g * exponent * a.Pow(exponent - 1));
            var de = Where((a == 0) & (exponent >= 0), ZerosLike(g), g * r * a.Log());
            return [da.SumToShape(a.Shape), de.SumToShape(exponent.Shape)];
        }, [a, exponent, r]);
        return r;
    }

    /// <summary>Element-wise maximum with broadcasting (gradient goes to the larger; split on ties).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => MinMax(a, b, BinaryOp.Maximum);

    /// <summary>Element-wise minimum with broadcasting.</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => MinMax(a, b, BinaryOp.Minimum);

    private static Tensor MinMax(Tensor a, Tensor b, BinaryOp op)
    {
        var r = BinaryCore(op, a, b);
        AutogradRecorder.Record(r, op.ToString().ToLowerInvariant(), [a, b], g =>
        {
            var wa = (a == r).To(g.DType);
            var wb = (b == r).To(g.DType);
            var total = wa + wb;
            return [(g * wa / total).SumToShape(a.Shape), (g * wb / total).SumToShape(b.Shape)];
        }, [a, b, r]);
        return r;
    }

    // ---------- unary math ----------

    /// <summary>|x|.</summary>
    public Tensor Abs() { var x = this; return UnaryCore(UnaryOp.Abs, g => [x.ActivationGrad(UnaryGradOp.Abs, g)]); }
    /// <summary>Sign (-1, 0, 1); no gradient.</summary>
    public Tensor Sign() => UnaryCore(UnaryOp.Sign);
    /// <summary>e^x.</summary>
    public Tensor Exp() { Tensor? r = null; r = UnaryCore(UnaryOp.Exp, g => [g * r!], savesResult: true); return r; }
    /// <summary>Natural log.</summary>
    public Tensor Log() { var x = this; return UnaryCore(UnaryOp.Log, g => [g / x]); }
    /// <summary>Square root.</summary>
    public Tensor Sqrt() { Tensor? r = null; r = UnaryCore(UnaryOp.Sqrt, g => [g * 0.5 / r!], savesResult: true); return r; }
    /// <summary>1/sqrt(x).</summary>
    public Tensor Rsqrt() { Tensor? r = null; r = UnaryCore(UnaryOp.Rsqrt, g => [g * -0.5 * r! * r! * r!], savesResult: true); return r; }
    /// <summary>x².</summary>
    public Tensor Square() { var x = this; return UnaryCore(UnaryOp.Square, g => [g * 2.0 * x]); }
    /// <summary>1/x.</summary>
    public Tensor Reciprocal() { Tensor? r = null; r = UnaryCore(UnaryOp.Reciprocal, g => [-g * r! * r!], savesResult: true); return r; }
    /// <summary>sin(x).</summary>
    public Tensor Sin() { var x = this; return UnaryCore(UnaryOp.Sin, g => [g * x.Cos()]); }
    /// <summary>cos(x).</summary>
    public Tensor Cos() { var x = this; return UnaryCore(UnaryOp.Cos, g => [-g * x.Sin()]); }
    /// <summary>tanh(x).</summary>
    public Tensor Tanh() { Tensor? r = null; r = UnaryCore(UnaryOp.Tanh, g => [g * (1.0 - r! * r!)], savesResult: true); return r; }
    /// <summary>Logistic sigmoid.</summary>
    public Tensor Sigmoid() { Tensor? r = null; r = UnaryCore(UnaryOp.Sigmoid, g => [g * r! * (1.0 - r!)], savesResult: true); return r; }
    /// <summary>max(x, 0).</summary>
    public Tensor Relu()
    {
        // Backward from the output, as PyTorch's threshold_backward: relu(x) > 0 exactly where x > 0.
        Tensor? r = null;
        r = UnaryCore(UnaryOp.Relu, g => [r!.ActivationGrad(UnaryGradOp.Relu, g)], savesResult: true);
        return r;
    }
    /// <summary>SiLU / swish: x·sigmoid(x).</summary>
    public Tensor Silu()
    {
        var x = this;
        return UnaryCore(UnaryOp.Silu, g => [x.ActivationGrad(UnaryGradOp.Silu, g)]);
    }

    /// <summary>Exact GELU x·Φ(x) (HF "gelu").</summary>
    public Tensor Gelu()
    {
        var x = this;
        return UnaryCore(UnaryOp.Gelu, g => [x.ActivationGrad(UnaryGradOp.Gelu, g)]);
    }

    /// <summary>Tanh-approximated GELU (HF "gelu_new", "gelu_pytorch_tanh").</summary>
    public Tensor GeluTanh()
    {
        var x = this;
        return UnaryCore(UnaryOp.GeluTanh, g => [x.ActivationGrad(UnaryGradOp.GeluTanh, g)]);
    }

    /// <summary>Clamps into [min, max] (gradient passes inside the range).</summary>
    public Tensor Clamp(double? min = null, double? max = null)
    {
        var x = this;
        var r = new Tensor(Backend.Clamp(Handle, min, max));
        AutogradRecorder.Record(r, "clamp", [x], g =>
        {
            var inside = OnesLike(x).To(DType.Bool);
            if (min is { } lo) inside = inside & (x >= lo);
            if (max is { } hi) inside = inside & (x <= hi);
            return [g * inside.To(g.DType)];
        }, [x]);
        return r;
    }

    // ---------- comparisons and logic (no gradients) ----------

    /// <summary>Element-wise equality (Bool).</summary>
    public static Tensor operator ==(Tensor a, Tensor b) => BinaryCore(BinaryOp.Eq, a, b);
    /// <summary>Element-wise inequality (Bool).</summary>
    public static Tensor operator !=(Tensor a, Tensor b) => BinaryCore(BinaryOp.Ne, a, b);
    /// <summary>Element-wise a &lt; b (Bool).</summary>
    public static Tensor operator <(Tensor a, Tensor b) => BinaryCore(BinaryOp.Lt, a, b);
    /// <summary>Element-wise a &gt; b (Bool).</summary>
    public static Tensor operator >(Tensor a, Tensor b) => BinaryCore(BinaryOp.Gt, a, b);
    /// <summary>Element-wise a &lt;= b (Bool).</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => BinaryCore(BinaryOp.Le, a, b);
    /// <summary>Element-wise a &gt;= b (Bool).</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => BinaryCore(BinaryOp.Ge, a, b);
    /// <summary>Element-wise x == s (Bool).</summary>
    public static Tensor operator ==(Tensor a, double s) => a.ScalarCore(BinaryOp.Eq, s, false);
    /// <summary>Element-wise x != s (Bool).</summary>
    public static Tensor operator !=(Tensor a, double s) => a.ScalarCore(BinaryOp.Ne, s, false);
    /// <summary>Element-wise x &lt; s (Bool).</summary>
    public static Tensor operator <(Tensor a, double s) => a.ScalarCore(BinaryOp.Lt, s, false);
    /// <summary>Element-wise x &gt; s (Bool).</summary>
    public static Tensor operator >(Tensor a, double s) => a.ScalarCore(BinaryOp.Gt, s, false);
    /// <summary>Element-wise x &lt;= s (Bool).</summary>
    public static Tensor operator <=(Tensor a, double s) => a.ScalarCore(BinaryOp.Le, s, false);
    /// <summary>Element-wise x &gt;= s (Bool).</summary>
    public static Tensor operator >=(Tensor a, double s) => a.ScalarCore(BinaryOp.Ge, s, false);
    /// <summary>Logical and of Bool tensors.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => BinaryCore(BinaryOp.And, a.To(DType.Bool), b.To(DType.Bool));
    /// <summary>Logical or of Bool tensors.</summary>
    public static Tensor operator |(Tensor a, Tensor b) => BinaryCore(BinaryOp.Or, a.To(DType.Bool), b.To(DType.Bool));
    /// <summary>Logical not of a Bool tensor.</summary>
    public static Tensor operator !(Tensor a) => a.To(DType.Bool).UnaryCore(UnaryOp.LogicalNot);

    /// <summary>True where the value is NaN (Bool).</summary>
    public Tensor IsNan() => BinaryCore(BinaryOp.Ne, this, this);

    /// <summary>Reference equality (tensors compare element-wise with ==).</summary>
    public override bool Equals(object? obj) => ReferenceEquals(this, obj);
    /// <summary>Reference hash code.</summary>
    public override int GetHashCode() => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(this);

    /// <summary>cond ? a : b element-wise with broadcasting.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        (a, b) = Promote(a, b, "Where");
        CheckSameDevice(condition, a, "Where");
        var cond = condition.To(DType.Bool);
        var outShape = ShapeUtil.Broadcast(ShapeUtil.Broadcast(cond.Shape, a.Shape), b.Shape);
        var r = new Tensor(a.Backend.Where(cond.Handle, a.Handle, b.Handle));
        AutogradRecorder.Record(r, "where", [a, b], g =>
        {
            var zero = ZerosLike(g);
            return [Where(cond, g, zero).SumToShape(a.Shape), Where(cond, zero, g).SumToShape(b.Shape)];
        }, [cond]);
        _ = outShape;
        return r;
    }

    /// <summary>Replaces entries where <paramref name="mask"/> is true with <paramref name="value"/>.</summary>
    public Tensor MaskedFill(Tensor mask, double value) => Where(mask, Full([], value, DType, Device), this);
}
