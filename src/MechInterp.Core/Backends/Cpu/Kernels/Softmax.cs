using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>Numerically stable softmax and log-softmax over one contiguous row (the maximum is subtracted first,
/// unlike <c>TensorPrimitives.SoftMax</c>). Float32 uses Vector512, Vector256 or scalar code, whichever the CPU runs.</summary>
internal static class Softmax
{
    /// <summary>y = softmax(x) or log_softmax(x); an all -inf row gives NaN (like PyTorch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        if (x.Length == 0) return;
        float max = Max(x);
        float sum = ExpShiftSum(x, max, y);
        if (log)
        {
            // (x - max) - log(sum): subtracting max first keeps the small log(sum) from being rounded away
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Subtract(y, MathF.Log(sum), y);
        }
        else TensorPrimitives.Multiply(y, 1f / sum, y);
    }

    /// <summary>Fused attention row: y[j] = softmax(scale * x[0..visible))[j] for j &lt; visible, 0 for the rest
    /// (all 0 when nothing is visible). One read of x and one write of y instead of scale, mask, softmax and NaN passes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledPrefixRow(ReadOnlySpan<float> x, Span<float> y, float scale, int visible)
    {
        y.Slice(visible).Clear();
        if (visible == 0) return;
        var head = x.Slice(0, visible);
        var outHead = y.Slice(0, visible);
        // softmax(s*x) = exp(s*(x - max)) / sum for s > 0; the scale folds into the exponent
        float max = Max(head);
        float sum = scale > 0 ? ExpScaledShiftSum(head, max, scale, outHead) : ExpScaledShiftSum(head, Min(head), scale, outHead);
        TensorPrimitives.Multiply(outHead, 1f / sum, outHead);
    }

    /// <summary>Float64 version of <see cref="ScaledPrefixRow(ReadOnlySpan{float}, Span{float}, float, int)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ScaledPrefixRow(ReadOnlySpan<double> x, Span<double> y, double scale, int visible)
    {
        y.Slice(visible).Clear();
        if (visible == 0) return;
        var outHead = y.Slice(0, visible);
        TensorPrimitives.Multiply(x.Slice(0, visible), scale, outHead);
        Row(outHead, outHead, log: false);
    }

    private static float Min(ReadOnlySpan<float> x) => TensorPrimitives.Min(x);

    /// <summary>y = exp(scale * (x - shift)); returns the sum of y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ExpScaledShiftSum(ReadOnlySpan<float> x, float shift, float scale, Span<float> y)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var s = Vector512.Create(shift);
            var k = Vector512.Create(scale);
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var e = Vector512.Exp((Vector512.LoadUnsafe(ref px, (nuint)i) - s) * k);
                e.StoreUnsafe(ref py, (nuint)i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var s = Vector256.Create(shift);
            var k = Vector256.Create(scale);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var e = Vector256.Exp((Vector256.LoadUnsafe(ref px, (nuint)i) - s) * k);
                e.StoreUnsafe(ref py, (nuint)i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) { float e = MathF.Exp((x[i] - shift) * scale); y[i] = e; sum += e; }
        return sum;
    }

    /// <summary>Float64 version (through TensorPrimitives).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(ReadOnlySpan<double> x, Span<double> y, bool log)
    {
        if (x.Length == 0) return;
        double max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        TensorPrimitives.Exp(y, y);
        double sum = TensorPrimitives.Sum<double>(y);
        if (log)
        {
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Subtract(y, Math.Log(sum), y);
        }
        else TensorPrimitives.Multiply(y, 1.0 / sum, y);
    }

    /// <summary>Maximum of a non-empty span (NaN propagates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float Max(ReadOnlySpan<float> x)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        float m = float.NegativeInfinity;
        bool nan = false;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512.Create(float.NegativeInfinity);
            var bad = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16) { var v = Vector512.LoadUnsafe(ref p, (nuint)i); acc = Vector512.Max(acc, v); bad |= ~Vector512.Equals(v, v); }
            m = HMax(Vector256.Max(acc.GetLower(), acc.GetUpper()));
            nan = bad != Vector512<float>.Zero;
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            var bad = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) { var v = Vector256.LoadUnsafe(ref p, (nuint)i); acc = Vector256.Max(acc, v); bad |= ~Vector256.Equals(v, v); }
            m = HMax(acc);
            nan = bad != Vector256<float>.Zero;
        }
        for (; i < n; i++) { float v = x[i]; if (float.IsNaN(v)) nan = true; else if (v > m) m = v; }
        return nan ? float.NaN : m;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float HMax(Vector256<float> v)
    {
        float m = float.NegativeInfinity;
        for (int j = 0; j < 8; j++) m = MathF.Max(m, v[j]);
        return m;
    }

    /// <summary>y = exp(x - shift); returns the sum of y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float ExpShiftSum(ReadOnlySpan<float> x, float shift, Span<float> y)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int n = x.Length, i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var s = Vector512.Create(shift);
            var acc = Vector512<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var e = Vector512.Exp(Vector512.LoadUnsafe(ref px, (nuint)i) - s);
                e.StoreUnsafe(ref py, (nuint)i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var s = Vector256.Create(shift);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref px, (nuint)i) - s);
                e.StoreUnsafe(ref py, (nuint)i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) { float e = MathF.Exp(x[i] - shift); y[i] = e; sum += e; }
        return sum;
    }
}
