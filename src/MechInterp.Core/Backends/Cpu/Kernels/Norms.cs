using System.Runtime.CompilerServices;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>Fused LayerNorm and RmsNorm over one contiguous row: one pass for the statistics, one for the
/// output, in Vector512, Vector256 or scalar code, whichever the CPU runs.</summary>
internal static class Norms
{
    /// <summary>y = (x - mean) / sqrt(var + eps) * w + b (biased variance; w and b may be empty).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LayerNorm<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        if (n == 0) return;
        T mean = TensorPrimitives.Sum(x) / T.CreateTruncating(n);
        T var = SumSquaredDeviation(x, mean) / T.CreateTruncating(n);
        T rstd = T.One / T.Sqrt(var + eps);
        Affine(x, mean, rstd, w, b, y);
    }

    /// <summary>y = x / sqrt(mean(x²) + eps) * w (w may be empty).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, T eps, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        if (n == 0) return;
        T ms = TensorPrimitives.SumOfSquares(x) / T.CreateTruncating(n);
        T r = T.One / T.Sqrt(ms + eps);
        Affine(x, T.Zero, r, w, default, y);
    }

    /// <summary><see cref="LayerNorm{T}"/> that also returns the row's scale sqrt(var + eps) (TransformerLens's hook_scale).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T LayerNormScale<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, ReadOnlySpan<T> b, T eps, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        if (n == 0) return T.Sqrt(eps);
        T mean = TensorPrimitives.Sum(x) / T.CreateTruncating(n);
        T scale = T.Sqrt(SumSquaredDeviation(x, mean) / T.CreateTruncating(n) + eps);
        Affine(x, mean, T.One / scale, w, b, y);
        return scale;
    }

    /// <summary>y = x / sqrt(mean(x²) + eps) (no weight); returns that scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T RmsNormScale<T>(ReadOnlySpan<T> x, T eps, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Length;
        if (n == 0) return T.Sqrt(eps);
        T scale = T.Sqrt(TensorPrimitives.SumOfSquares(x) / T.CreateTruncating(n) + eps);
        Affine(x, T.Zero, T.One / scale, default, default, y);
        return scale;
    }

    /// <summary>Σ (x - mean)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static T SumSquaredDeviation<T>(ReadOnlySpan<T> x, T mean) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T p = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        T sum = T.Zero;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var m = Vector512.Create(mean);
            var acc = Vector512<T>.Zero;
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count) { var d = Vector512.LoadUnsafe(ref p, (nuint)i) - m; acc += d * d; }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var m = Vector256.Create(mean);
            var acc = Vector256<T>.Zero;
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count) { var d = Vector256.LoadUnsafe(ref p, (nuint)i) - m; acc += d * d; }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) { T d = x[i] - mean; sum += d * d; }
        return sum;
    }

    /// <summary>y = (x - shift) * scale * w + b with w and b optional (empty).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Affine<T>(ReadOnlySpan<T> x, T shift, T scale, ReadOnlySpan<T> w, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T px = ref MemoryMarshal.GetReference(x);
        ref T pw = ref MemoryMarshal.GetReference(w);
        ref T pb = ref MemoryMarshal.GetReference(b);
        ref T py = ref MemoryMarshal.GetReference(y);
        bool hw = !w.IsEmpty, hb = !b.IsEmpty;
        int n = x.Length, i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<T>.Count)
        {
            var s = Vector512.Create(shift); var k = Vector512.Create(scale);
            for (; i <= n - Vector512<T>.Count; i += Vector512<T>.Count)
            {
                var v = (Vector512.LoadUnsafe(ref px, (nuint)i) - s) * k;
                if (hw) v *= Vector512.LoadUnsafe(ref pw, (nuint)i);
                if (hb) v += Vector512.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<T>.Count)
        {
            var s = Vector256.Create(shift); var k = Vector256.Create(scale);
            for (; i <= n - Vector256<T>.Count; i += Vector256<T>.Count)
            {
                var v = (Vector256.LoadUnsafe(ref px, (nuint)i) - s) * k;
                if (hw) v *= Vector256.LoadUnsafe(ref pw, (nuint)i);
                if (hb) v += Vector256.LoadUnsafe(ref pb, (nuint)i);
                v.StoreUnsafe(ref py, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = (x[i] - shift) * scale;
            if (hw) v *= w[i];
            if (hb) v += b[i];
            y[i] = v;
        }
    }
}
