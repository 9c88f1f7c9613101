using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// Fused backward rows of the smooth activations (<see cref="UnaryGradOp.GeluTanh"/>, <see cref="UnaryGradOp.Silu"/>,
/// <see cref="UnaryGradOp.Gelu"/>): the derivative at x times the gradient in one pass over chunks that stay in L1,
/// instead of the ~10 whole-tensor temporaries of the composite formula. Dense rows use <see cref="TensorPrimitives"/>
/// (SIMD sigmoid and exp; exact GELU in double, like its forward); strided or broadcast rows use the scalar formula.
/// </summary>
internal static class SmoothActivationGrads
{
    private const int Chunk = 256;
    private const double SqrtTwoOverPi = Activations.SqrtTwoOverPi, Cubic = Activations.Cubic, InvSqrt2 = Activations.InvSqrt2;
    private const double InvSqrtTwoPi = 0.39894228040143267794;

    /// <summary>d[i] = op'(x[oX + i·sX])·g[oG + i·sG] for the <c>d.Length</c> elements of one row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<T>(UnaryGradOp op, ReadOnlySpan<T> g, long oG, long sG, ReadOnlySpan<T> x, long oX, long sX, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length;
        if (sX == 1 && sG == 1)
        {
            var gs = g.Slice((int)oG, n);
            var xs = x.Slice((int)oX, n);
            for (int s = 0; s < n; s += Chunk)
            {
                int len = Math.Min(Chunk, n - s);
                if (op == UnaryGradOp.GeluTanh) GeluTanhChunk(gs.Slice(s, len), xs.Slice(s, len), d.Slice(s, len));
                else if (op == UnaryGradOp.Silu) SiluChunk(gs.Slice(s, len), xs.Slice(s, len), d.Slice(s, len));
                else if (typeof(T) == typeof(float)) GeluChunk(Cast<T, float>(gs.Slice(s, len)), Cast<T, float>(xs.Slice(s, len)), CastMutable<T, float>(d.Slice(s, len)));
                else for (int i = s; i < s + len; i++) d[i] = Apply(op, gs[i], xs[i]);
            }
            return;
        }
        for (int i = 0; i < n; i++) d[i] = Apply(op, g[(int)(oG + i * sG)], x[(int)(oX + i * sX)]);
    }

    /// <summary>The scalar definition the SIMD chunks agree with. Tanh GELU's derivative is written with
    /// σ = sigmoid(2u) = (1 + tanh u)/2 as σ·(1 + 2x·slope·(1 − σ)), slope = du/dx: the textbook form
    /// ½(1 + t) + ½x(1 − t²)·slope subtracts nearly equal terms once tanh u is within float32 rounding of −1 (x ≲ −4).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static T Apply<T>(UnaryGradOp op, T g, T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T one = T.One, two = T.CreateTruncating(2.0);
        if (op == UnaryGradOp.Gelu)
        {
            double v = double.CreateTruncating(x);
            double cdf = 0.5 * Activations.Erfc(-v * InvSqrt2), pdf = Math.Exp(-0.5 * v * v) * InvSqrtTwoPi;
            return g * T.CreateTruncating(cdf + v * pdf);
        }
        if (op == UnaryGradOp.Silu)
        {
            T s = one / (one + T.Exp(-x));
            return g * s * (one + x * (one - s));
        }
        T c = T.CreateTruncating(SqrtTwoOverPi), x2 = x * x;
        T sigma = one / (one + T.Exp(-two * c * x * (one + T.CreateTruncating(Cubic) * x2)));
        T slope = c * (one + T.CreateTruncating(3 * Cubic) * x2);
        return g * sigma * (one + two * x * slope * (one - sigma));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GeluTanhChunk<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length;
        Span<T> x2 = stackalloc T[n], sigma = stackalloc T[n];
        T c = T.CreateTruncating(SqrtTwoOverPi), two = T.CreateTruncating(2.0);
        TensorPrimitives.Multiply(x, x, x2);                                            // x²
        TensorPrimitives.Multiply(x2, T.CreateTruncating(2 * SqrtTwoOverPi * Cubic), sigma);
        TensorPrimitives.Add(sigma, two * c, sigma);
        TensorPrimitives.Multiply(sigma, x, sigma);                                     // 2u = 2c(x + k·x³)
        TensorPrimitives.Sigmoid(sigma, sigma);                                         // σ = (1 + tanh u)/2
        TensorPrimitives.Multiply(x2, T.CreateTruncating(3 * SqrtTwoOverPi * Cubic), x2);
        TensorPrimitives.Add(x2, c, x2);                                                // slope = c(1 + 3k·x²)
        TensorPrimitives.Subtract(T.One, sigma, d);                                     // 1 − σ
        TensorPrimitives.Multiply(d, x2, d);
        TensorPrimitives.Multiply(d, x, d);
        TensorPrimitives.Multiply(d, two, d);
        TensorPrimitives.Add(d, T.One, d);                                              // 1 + 2x·slope·(1 − σ)
        TensorPrimitives.Multiply(d, sigma, d);
        TensorPrimitives.Multiply(d, g, d);
    }

    /// <summary>Exact GELU's derivative for float32, computed in double like the forward kernel: Φ(x) from the same
    /// erfc fit (fractional error below 1.2e-7), φ(x) = e^(−x²/2)/√(2π).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GeluChunk(ReadOnlySpan<float> g, ReadOnlySpan<float> x, Span<float> d)
    {
        int n = d.Length;
        Span<double> xd = stackalloc double[n], scratch = stackalloc double[n], cdf = stackalloc double[n];
        TensorPrimitives.ConvertTruncating<float, double>(x, xd);
        Activations.ErfcNegScaled(xd, scratch, cdf);                   // erfc(−x/√2) = 2Φ(x)
        TensorPrimitives.Multiply(xd, xd, scratch);
        TensorPrimitives.Multiply(scratch, -0.5, scratch);
        TensorPrimitives.Exp(scratch, scratch);
        TensorPrimitives.Multiply(scratch, InvSqrtTwoPi, scratch);     // φ(x)
        TensorPrimitives.Multiply(scratch, xd, scratch);               // x·φ(x)
        TensorPrimitives.MultiplyAdd(cdf, 0.5, scratch, scratch);      // Φ(x) + x·φ(x)
        for (int i = 0; i < n; i++) d[i] = (float)(g[i] * scratch[i]);
    }

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    private static Span<TTo> CastMutable<TFrom, TTo>(Span<TFrom> s) where TFrom : unmanaged where TTo : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<TFrom, TTo>(s);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SiluChunk<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = d.Length;
        Span<T> s = stackalloc T[n];
        TensorPrimitives.Sigmoid(x, s);
        TensorPrimitives.Subtract(T.One, s, d);            // 1 − s
        TensorPrimitives.MultiplyAdd(d, x, T.One, d);      // 1 + x(1 − s)
        TensorPrimitives.Multiply(d, s, d);
        TensorPrimitives.Multiply(d, g, d);
    }
}
