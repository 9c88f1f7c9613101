using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MechInterp;

/// <summary>
/// Element conversions from the little-endian bytes of a stored safetensors dtype into typed spans. Float
/// widening (F16/BF16 → F32/F64, F32 → F64) is exact; narrowing rounds to nearest even; float → integer
/// truncates toward zero and integer narrowing wraps (as <c>torch.Tensor.to</c> does); → Bool is "≠ 0".
/// </summary>
internal static class SafeTensorsConvert
{
    /// <summary>A new array of the element type the backends use for <paramref name="dtype"/>.</summary>
    public static Array Allocate(DType dtype, int length) => dtype switch
    {
        DType.Float32 => new float[length],
        DType.Float64 => new double[length],
        DType.Float16 => new Half[length],
        DType.BFloat16 => new ushort[length],
        DType.Int64 => new long[length],
        DType.Int32 => new int[length],
        DType.UInt8 => new byte[length],
        DType.Bool => new bool[length],
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>Converts the elements in <paramref name="src"/> (stored as <paramref name="from"/>) into
    /// <paramref name="dst"/>[<paramref name="offset"/> ..], an array made by <see cref="Allocate"/>.</summary>
    public static void Convert(ReadOnlySpan<byte> src, DType from, Array dst, int offset)
    {
        int n = src.Length / from.ElementSize();
        switch (dst)
        {
            case float[] a: ToSingle(src, from, a.AsSpan(offset, n)); break;
            case double[] a: ToDouble(src, from, a.AsSpan(offset, n)); break;
            case Half[] a: ToHalf(src, from, a.AsSpan(offset, n)); break;
            case ushort[] a: ToBFloat16(src, from, a.AsSpan(offset, n)); break;
            case long[] a: ToInt64(src, from, a.AsSpan(offset, n)); break;
            case int[] a: ToNarrowInt(src, from, a.AsSpan(offset, n), static v => unchecked((int)v)); break;
            case byte[] a: ToNarrowInt(src, from, a.AsSpan(offset, n), static v => unchecked((byte)v)); break;
            case bool[] a: ToBool(src, from, a.AsSpan(offset, n)); break;
            default: throw new ArgumentException($"unsupported destination array {dst.GetType().Name}", nameof(dst));
        }
    }

    /// <summary>Converts to float32 (exact for F16, BF16 and small integers).</summary>
    public static void ToSingle(ReadOnlySpan<byte> src, DType from, Span<float> dst)
    {
        switch (from)
        {
            case DType.Float32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case DType.Float16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src), dst); break;
            case DType.BFloat16:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = BFloat16ToSingle(s[i]);
                break;
            }
            case DType.Float64:
            {
                var s = MemoryMarshal.Cast<byte, double>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)s[i];
                break;
            }
            default:
                for (int i = 0; i < dst.Length; i++) dst[i] = ReadInteger(src, from, i);
                break;
        }
    }

    /// <summary>Converts to float64 (exact for every float dtype).</summary>
    public static void ToDouble(ReadOnlySpan<byte> src, DType from, Span<double> dst)
    {
        switch (from)
        {
            case DType.Float64: MemoryMarshal.Cast<byte, double>(src).CopyTo(dst); break;
            case DType.Float32:
            {
                var s = MemoryMarshal.Cast<byte, float>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = s[i];
                break;
            }
            case DType.Float16:
            {
                var s = MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (double)s[i];
                break;
            }
            case DType.BFloat16:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = BFloat16ToSingle(s[i]);
                break;
            }
            default:
                for (int i = 0; i < dst.Length; i++) dst[i] = ReadInteger(src, from, i);
                break;
        }
    }

    private static void ToHalf(ReadOnlySpan<byte> src, DType from, Span<Half> dst)
    {
        switch (from)
        {
            case DType.Float16: MemoryMarshal.Cast<byte, Half>(src).CopyTo(dst); break;
            case DType.Float32: TensorPrimitives.ConvertToHalf(MemoryMarshal.Cast<byte, float>(src), dst); break;
            case DType.Float64:
            {
                var s = MemoryMarshal.Cast<byte, double>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (Half)s[i];
                break;
            }
            case DType.BFloat16:
            {
                var s = MemoryMarshal.Cast<byte, ushort>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = (Half)BFloat16ToSingle(s[i]);
                break;
            }
            default:
                for (int i = 0; i < dst.Length; i++) dst[i] = (Half)(double)ReadInteger(src, from, i);
                break;
        }
    }

    private static void ToBFloat16(ReadOnlySpan<byte> src, DType from, Span<ushort> dst)
    {
        switch (from)
        {
            case DType.BFloat16: MemoryMarshal.Cast<byte, ushort>(src).CopyTo(dst); break;
            case DType.Float32:
            {
                var s = MemoryMarshal.Cast<byte, float>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = SingleToBFloat16(s[i]);
                break;
            }
            case DType.Float64:
            {
                var s = MemoryMarshal.Cast<byte, double>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = SingleToBFloat16((float)s[i]);
                break;
            }
            case DType.Float16:
            {
                var s = MemoryMarshal.Cast<byte, Half>(src);
                for (int i = 0; i < dst.Length; i++) dst[i] = SingleToBFloat16((float)s[i]);
                break;
            }
            default:
                for (int i = 0; i < dst.Length; i++) dst[i] = SingleToBFloat16(ReadInteger(src, from, i));
                break;
        }
    }

    private static void ToInt64(ReadOnlySpan<byte> src, DType from, Span<long> dst)
    {
        if (from == DType.Int64) { MemoryMarshal.Cast<byte, long>(src).CopyTo(dst); return; }
        for (int i = 0; i < dst.Length; i++) dst[i] = ReadAsInt64(src, from, i);
    }

    private static void ToNarrowInt<T>(ReadOnlySpan<byte> src, DType from, Span<T> dst, Func<long, T> narrow)
    {
        for (int i = 0; i < dst.Length; i++) dst[i] = narrow(ReadAsInt64(src, from, i));
    }

    private static void ToBool(ReadOnlySpan<byte> src, DType from, Span<bool> dst)
    {
        for (int i = 0; i < dst.Length; i++)
            dst[i] = from.IsFloatingPoint() ? ReadFloat(src, from, i) != 0 : ReadInteger(src, from, i) != 0;
    }

    private static long ReadAsInt64(ReadOnlySpan<byte> src, DType from, int i) =>
        from.IsFloatingPoint() ? TruncateToInt64(ReadFloat(src, from, i)) : ReadInteger(src, from, i);

    private static long TruncateToInt64(double v) =>
        double.IsNaN(v) ? 0 : v >= 9.2233720368547758e18 ? long.MaxValue : v <= -9.2233720368547758e18 ? long.MinValue : (long)v;

    private static double ReadFloat(ReadOnlySpan<byte> src, DType from, int i) => from switch
    {
        DType.Float32 => MemoryMarshal.Cast<byte, float>(src)[i],
        DType.Float64 => MemoryMarshal.Cast<byte, double>(src)[i],
        DType.Float16 => (double)MemoryMarshal.Cast<byte, Half>(src)[i],
        _ => BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(src)[i]),
    };

    private static long ReadInteger(ReadOnlySpan<byte> src, DType from, int i) => from switch
    {
        DType.Int64 => MemoryMarshal.Cast<byte, long>(src)[i],
        DType.Int32 => MemoryMarshal.Cast<byte, int>(src)[i],
        DType.UInt8 => src[i],
        DType.Bool => src[i] != 0 ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(from), from, "not an integer dtype"),
    };

    /// <summary>bfloat16 bits → float32 (exact: the bits are the upper half of a float32).</summary>
    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>float32 → bfloat16 bits, rounding to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }
}
