using System.Numerics;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// Fused backward rows of element-wise activations (<see cref="UnaryGradOp"/>): one read of the gradient and of the
/// activation, one write, no mask or sign tensor in between. The gradient row may be a broadcast scalar (stride 0,
/// e.g. the expanded gradient of a sum) or dense; the activation row is dense or strided.
/// </summary>
internal static class ActivationGrads
{
    /// <summary>d[i] = op'(x[oX + i·sX]) applied to g[oG + i·sG] for the <c>d.Length</c> elements of one row.</summary>
    public static void Row<T>(UnaryGradOp op, ReadOnlySpan<T> g, long oG, long sG, ReadOnlySpan<T> x, long oX, long sX, Span<T> d)
        where T : unmanaged, INumber<T>
    {
        int n = d.Length;
        if (sX == 1 && sG == 1) { Dense(op, g.Slice((int)oG, n), x.Slice((int)oX, n), d); return; }
        if (sX == 1 && sG == 0) { ScalarGrad(op, g[(int)oG], x.Slice((int)oX, n), d); return; }
        for (int i = 0; i < n; i++)
            d[i] = Apply(op, g[(int)(oG + i * sG)], x[(int)(oX + i * sX)]);
    }

    /// <summary>The scalar definition every path agrees with: ReLU passes g where x &gt; 0 (0 elsewhere, NaN x
    /// included); |x| gives g·sign(x) with sign(0) = 0 and a NaN x giving NaN.</summary>
    private static T Apply<T>(UnaryGradOp op, T g, T x) where T : unmanaged, INumber<T> => op switch
    {
        UnaryGradOp.Relu => x > T.Zero ? g : T.Zero,
        UnaryGradOp.Abs => g * (x > T.Zero ? T.One : x < T.Zero ? -T.One : x),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown activation gradient"),
    };

    private static void Dense<T>(UnaryGradOp op, ReadOnlySpan<T> g, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, INumber<T>
    {
        int i = 0, w = Vector<T>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= d.Length - w; i += w)
                Lanes(op, new Vector<T>(g.Slice(i, w)), new Vector<T>(x.Slice(i, w))).CopyTo(d.Slice(i, w));
        }
        for (; i < d.Length; i++) d[i] = Apply(op, g[i], x[i]);
    }

    private static void ScalarGrad<T>(UnaryGradOp op, T g, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, INumber<T>
    {
        int i = 0, w = Vector<T>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            var gv = new Vector<T>(g);
            for (; i <= d.Length - w; i += w)
                Lanes(op, gv, new Vector<T>(x.Slice(i, w))).CopyTo(d.Slice(i, w));
        }
        for (; i < d.Length; i++) d[i] = Apply(op, g, x[i]);
    }

    private static Vector<T> Lanes<T>(UnaryGradOp op, Vector<T> g, Vector<T> x) where T : unmanaged, INumber<T>
    {
        var positive = Vector.GreaterThan(x, Vector<T>.Zero);
        if (op == UnaryGradOp.Relu) return Vector.ConditionalSelect(positive, g, Vector<T>.Zero);
        var negative = Vector.LessThan(x, Vector<T>.Zero);
        var sign = Vector.ConditionalSelect(positive, Vector<T>.One,
            Vector.ConditionalSelect(negative, -Vector<T>.One, x)); // ±0 and NaN stay themselves
        return g * sign;
    }
}
