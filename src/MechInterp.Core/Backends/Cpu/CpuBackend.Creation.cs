using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle FromArray(Array data, long[] shape, DType dtype)
    {
        long n = ShapeUtil.NumElements(shape);
        if (data.Length != n)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Tensor.ShapeString(shape)} ({n} elements)", nameof(data));
        var expected = ClrType(dtype);
        if (data.GetType().GetElementType() != expected)
            throw new ArgumentException($"FromArray: a {dtype} tensor needs a {expected.Name}[] array, got {data.GetType().Name}", nameof(data));
        var h = CpuHandle.Allocate(dtype, (long[])shape.Clone());
        switch (dtype.ElementSize())
        {
            case 1: RawSpan<byte>(data).CopyTo(h.Span<byte>()); break;
            case 2: RawSpan<ushort>(data).CopyTo(h.Span<ushort>()); break;
            case 4: RawSpan<int>(data).CopyTo(h.Span<int>()); break;
            default: RawSpan<long>(data).CopyTo(h.Span<long>()); break;
        }
        return h;
    }

    /// <inheritdoc />
    public Array ToArray(TensorHandle x)
    {
        var h = Dense(H(x));
        try
        {
            var result = Array.CreateInstance(ClrType(h.DType), h.NumElements);
            switch (h.DType.ElementSize())
            {
                case 1: h.Span<byte>().CopyTo(RawSpan<byte>(result)); break;
                case 2: h.Span<ushort>().CopyTo(RawSpan<ushort>(result)); break;
                case 4: h.Span<int>().CopyTo(RawSpan<int>(result)); break;
                default: h.Span<long>().CopyTo(RawSpan<long>(result)); break;
            }
            return result;
        }
        finally { Release(h, H(x)); }
    }

    /// <inheritdoc />
    public TensorHandle Full(long[] shape, DType dtype, double value)
    {
        var h = CpuHandle.Allocate(dtype, (long[])shape.Clone());
        switch (dtype)
        {
            case DType.Float32: h.Span<float>().Fill((float)value); break;
            case DType.Float64: h.Span<double>().Fill(value); break;
            case DType.Int64: h.Span<long>().Fill(long.CreateSaturating(value)); break;
            case DType.Int32: h.Span<int>().Fill(int.CreateSaturating(value)); break;
            case DType.UInt8: h.Span<byte>().Fill(byte.CreateSaturating(value)); break;
            case DType.Bool: h.Span<byte>().Fill(value != 0 ? (byte)1 : (byte)0); break;
            case DType.Float16: h.Span<Half>().Fill((Half)value); break;
            case DType.BFloat16: h.Span<ushort>().Fill(BFloat16Bits((float)value)); break;
        }
        return h;
    }

    /// <inheritdoc />
    public TensorHandle Cast(TensorHandle x, DType dtype)
    {
        var src = Dense(H(x));
        try
        {
            var dst = CpuHandle.Allocate(dtype, (long[])src.ShapeArray.Clone());
            long n = src.NumElements;
            StridedPlan.ParallelRange(n, n, (a, b) => CastRange(src, dst, (int)a, (int)(b - a)), 1 << 17);
            return dst;
        }
        finally { Release(src, H(x)); }
    }

    private static void CastRange(CpuHandle src, CpuHandle dst, int start, int count)
    {
        DType from = src.DType, to = dst.DType;
        if (from == to || (from is DType.Bool or DType.UInt8 && to is DType.Bool or DType.UInt8 && from != DType.UInt8))
        {
            // same bits (and Bool -> UInt8 is 0/1 -> 0/1)
            if (from.ElementSize() == 1) src.Span<byte>().Slice(start, count).CopyTo(dst.Span<byte>().Slice(start));
            else if (from.ElementSize() == 2) src.Span<ushort>().Slice(start, count).CopyTo(dst.Span<ushort>().Slice(start));
            else if (from.ElementSize() == 4) src.Span<int>().Slice(start, count).CopyTo(dst.Span<int>().Slice(start));
            else src.Span<long>().Slice(start, count).CopyTo(dst.Span<long>().Slice(start));
            return;
        }
        if (from == DType.BFloat16 || to == DType.BFloat16)
        {
            // go through float32 in stack-sized chunks
            Span<float> tmp = stackalloc float[512];
            for (int s = 0; s < count; s += tmp.Length)
            {
                int c = Math.Min(tmp.Length, count - s);
                var t = tmp[..c];
                if (from == DType.BFloat16) { var bits = src.Span<ushort>().Slice(start + s, c); for (int i = 0; i < c; i++) t[i] = BitConverter.UInt32BitsToSingle((uint)bits[i] << 16); }
                else ConvertSpan(src, start + s, c, t);
                if (to == DType.BFloat16) { var o = dst.Span<ushort>().Slice(start + s, c); for (int i = 0; i < c; i++) o[i] = BFloat16Bits(t[i]); }
                else ConvertFrom<float>(t, dst, start + s);
            }
            return;
        }
        switch (from)
        {
            case DType.Float32: ConvertFrom<float>(src.Span<float>().Slice(start, count), dst, start); break;
            case DType.Float64: ConvertFrom<double>(src.Span<double>().Slice(start, count), dst, start); break;
            case DType.Int64: ConvertFrom<long>(src.Span<long>().Slice(start, count), dst, start); break;
            case DType.Int32: ConvertFrom<int>(src.Span<int>().Slice(start, count), dst, start); break;
            case DType.Float16: ConvertFrom<Half>(src.Span<Half>().Slice(start, count), dst, start); break;
            default: ConvertFrom<byte>(src.Span<byte>().Slice(start, count), dst, start); break; // UInt8, Bool (0/1)
        }
    }

    /// <summary>Converts a slice of a non-BFloat16 source into float32.</summary>
    private static void ConvertSpan(CpuHandle src, int start, int count, Span<float> t)
    {
        switch (src.DType)
        {
            case DType.Float32: src.Span<float>().Slice(start, count).CopyTo(t); break;
            case DType.Float64: TensorPrimitives.ConvertTruncating<double, float>(src.Span<double>().Slice(start, count), t); break;
            case DType.Int64: TensorPrimitives.ConvertTruncating<long, float>(src.Span<long>().Slice(start, count), t); break;
            case DType.Int32: TensorPrimitives.ConvertTruncating<int, float>(src.Span<int>().Slice(start, count), t); break;
            case DType.Float16: TensorPrimitives.ConvertToSingle(src.Span<Half>().Slice(start, count), t); break;
            default: TensorPrimitives.ConvertTruncating<byte, float>(src.Span<byte>().Slice(start, count), t); break;
        }
    }

    private static void ConvertFrom<TFrom>(ReadOnlySpan<TFrom> s, CpuHandle dst, int start) where TFrom : unmanaged, INumberBase<TFrom>
    {
        int n = s.Length;
        switch (dst.DType)
        {
            case DType.Float32: TensorPrimitives.ConvertTruncating<TFrom, float>(s, dst.Span<float>().Slice(start, n)); break;
            case DType.Float64: TensorPrimitives.ConvertTruncating<TFrom, double>(s, dst.Span<double>().Slice(start, n)); break;
            case DType.Int64: TensorPrimitives.ConvertSaturating<TFrom, long>(s, dst.Span<long>().Slice(start, n)); break;
            case DType.Int32: TensorPrimitives.ConvertSaturating<TFrom, int>(s, dst.Span<int>().Slice(start, n)); break;
            case DType.UInt8: TensorPrimitives.ConvertSaturating<TFrom, byte>(s, dst.Span<byte>().Slice(start, n)); break;
            case DType.Float16: TensorPrimitives.ConvertTruncating<TFrom, Half>(s, dst.Span<Half>().Slice(start, n)); break;
            case DType.Bool:
                {
                    var o = dst.Span<byte>().Slice(start, n);
                    for (int i = 0; i < n; i++) o[i] = TFrom.IsZero(s[i]) ? (byte)0 : (byte)1;
                    break;
                }
            default: throw Unsupported("Cast", dst.DType);
        }
    }

    /// <summary>float32 → bfloat16 bits with round-to-nearest-even (NaN stays a quiet NaN).</summary>
    internal static ushort BFloat16Bits(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if (float.IsNaN(f)) return (ushort)((u >> 16) | 0x40);
        u += 0x7FFFu + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }

    private static Type ClrType(DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Int64 => typeof(long),
        DType.Int32 => typeof(int),
        DType.UInt8 => typeof(byte),
        DType.Bool => typeof(bool),
        DType.Float16 => typeof(Half),
        DType.BFloat16 => typeof(ushort),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    private static Span<T> RawSpan<T>(Array a) where T : unmanaged
    {
        int size = a switch { bool[] or byte[] => 1, Half[] or ushort[] => 2, float[] or int[] => 4, _ => 8 };
        ref byte start = ref MemoryMarshal.GetArrayDataReference(a);
        return MemoryMarshal.CreateSpan(ref System.Runtime.CompilerServices.Unsafe.As<byte, T>(ref start), (int)((long)a.Length * size / System.Runtime.CompilerServices.Unsafe.SizeOf<T>()));
    }
}
