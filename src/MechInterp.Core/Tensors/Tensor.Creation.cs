using MechInterp.Autograd;

using MechInterp.Backends;

namespace MechInterp;

public sealed partial class Tensor
{
    private static long[] CheckShape(long[] shape, long count, string what)
    {
        foreach (var d in shape)
            if (d < 0) throw new ArgumentException($"{what}: negative dimension in shape {ShapeString(shape)}");
        long n = ShapeUtil.NumElements(shape);
        if (n != count) throw new ArgumentException($"{what}: {count} values do not fill shape {ShapeString(shape)} ({n} elements)");
        return (long[])shape.Clone();
    }

    private static Tensor FromArrayCore(Array data, long[] shape, DType dtype, Device? device, bool scalar = false)
    {
        var s = shape.Length == 0 && !scalar ? [data.Length] : shape;
        var backend = BackendRegistry.Get(device ?? Device.Cpu);
        return new Tensor(backend.FromArray(data, CheckShape(s, data.Length, "FromArray"), dtype));
    }

    /// <summary>A float32 tensor from row-major data (shape defaults to 1-D).</summary>
    public static Tensor FromArray(float[] data, params long[] shape) => FromArrayCore(data, shape, DType.Float32, null);

    /// <summary>A float64 tensor from row-major data (shape defaults to 1-D).</summary>
    public static Tensor FromArray(double[] data, params long[] shape) => FromArrayCore(data, shape, DType.Float64, null);

    /// <summary>An int64 tensor from row-major data (shape defaults to 1-D).</summary>
    public static Tensor FromArray(long[] data, params long[] shape) => FromArrayCore(data, shape, DType.Int64, null);

    /// <summary>An int32 tensor from row-major data (shape defaults to 1-D).</summary>
    public static Tensor FromArray(int[] data, params long[] shape) => FromArrayCore(data, shape, DType.Int32, null);

    /// <summary>A bool tensor from row-major data (shape defaults to 1-D).</summary>
    public static Tensor FromArray(bool[] data, params long[] shape) => FromArrayCore(data, shape, DType.Bool, null);

    /// <summary>A tensor of <paramref name="dtype"/> on <paramref name="device"/> from a typed row-major array
    /// (float[], double[], long[], int[], bool[], byte[], Half[]; ushort[] for BFloat16 bits).</summary>
    public static Tensor FromArray(Array data, long[] shape, DType dtype, Device device) => FromArrayCore(data, shape, dtype, device, scalar: shape.Length == 0 && data.Length == 1);

    /// <summary>A zero-dimensional float32 tensor.</summary>
    public static Tensor Scalar(float value, Device? device = null) => FromArrayCore(new[] { value }, [], DType.Float32, device, scalar: true);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(long[] shape, double value, DType dtype = DType.Float32, Device? device = null) =>
        new(BackendRegistry.Get(device ?? Device.Cpu).Full(CheckShape(shape, ShapeUtil.NumElements(shape), "Full"), dtype, value));

    /// <summary>Zeros.</summary>
    public static Tensor Zeros(long[] shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 0, dtype, device);

    /// <summary>Ones.</summary>
    public static Tensor Ones(long[] shape, DType dtype = DType.Float32, Device? device = null) => Full(shape, 1, dtype, device);

    /// <summary>Zeros with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor ZerosLike(Tensor like) => Zeros(like.Shape, like.DType, like.Device);

    /// <summary>Ones with the shape, dtype and device of <paramref name="like"/>.</summary>
    public static Tensor OnesLike(Tensor like) => Ones(like.Shape, like.DType, like.Device);

    /// <summary>Values start, start+step, ... below end (Int64 unless a dtype is given).</summary>
    public static Tensor Arange(long start, long end, long step = 1, DType dtype = DType.Int64, Device? device = null)
    {
        if (step == 0) throw new ArgumentException("Arange step must not be zero", nameof(step));
        long n = Math.Max(0, (end - start + step + (step > 0 ? -1 : 1)) / step);
        var data = new long[n];
        for (long i = 0; i < n; i++) data[i] = start + i * step;
        var t = FromArrayCore(data, [n], DType.Int64, device);
        return dtype == DType.Int64 ? t : t.To(dtype);
    }

    /// <summary>0, 1, ..., end-1.</summary>
    public static Tensor Arange(long end, DType dtype = DType.Int64, Device? device = null) => Arange(0, end, 1, dtype, device);

    /// <summary><paramref name="steps"/> evenly spaced float values from start to end inclusive.</summary>
    public static Tensor Linspace(double start, double end, long steps, DType dtype = DType.Float32, Device? device = null)
    {
        var data = new double[steps];
        for (long i = 0; i < steps; i++) data[i] = steps == 1 ? start : start + (end - start) * i / (steps - 1);
        return FromArrayCore(data, [steps], DType.Float64, device).To(dtype);
    }

    /// <summary>Identity matrix [n, m] (m defaults to n).</summary>
    public static Tensor Eye(long n, long? m = null, DType dtype = DType.Float32, Device? device = null)
    {
        long cols = m ?? n;
        var data = new double[n * cols];
        for (long i = 0; i < Math.Min(n, cols); i++) data[i * cols + i] = 1;
        return FromArrayCore(data, [n, cols], DType.Float64, device).To(dtype);
    }

    /// <summary>Normal(mean, std) samples drawn from <paramref name="generator"/>.</summary>
    public static Tensor Randn(long[] shape, Generator generator, double mean = 0, double std = 1, DType dtype = DType.Float32, Device? device = null)
    {
        long n = ShapeUtil.NumElements(shape);
        var data = new double[n];
        for (long i = 0; i < n; i++) data[i] = mean + std * generator.NextNormal();
        return FromArrayCore(data, shape, DType.Float64, device, scalar: shape.Length == 0).To(dtype);
    }

    /// <summary>Uniform [low, high) samples drawn from <paramref name="generator"/>.</summary>
    public static Tensor Rand(long[] shape, Generator generator, double low = 0, double high = 1, DType dtype = DType.Float32, Device? device = null)
    {
        long n = ShapeUtil.NumElements(shape);
        var data = new double[n];
        for (long i = 0; i < n; i++) data[i] = low + (high - low) * generator.NextDouble();
        return FromArrayCore(data, shape, DType.Float64, device, scalar: shape.Length == 0).To(dtype);
    }

    /// <summary>Uniform integers in [low, high) drawn from <paramref name="generator"/> (Int64).</summary>
    public static Tensor RandInt(long low, long high, long[] shape, Generator generator, Device? device = null)
    {
        long n = ShapeUtil.NumElements(shape);
        var data = new long[n];
        for (long i = 0; i < n; i++) data[i] = generator.NextInt64(low, high);
        return FromArrayCore(data, shape, DType.Int64, device, scalar: shape.Length == 0);
    }
}
