using Xunit;
using Xunit.Sdk;

namespace MechInterp.Tests.Torch;

/// <summary>Runs one computation on the managed CPU backend and on libtorch CPU and compares the results.</summary>
internal static class ParityHarness
{
    /// <summary>Relative tolerance for float32 results.</summary>
    public const double RelTol = 1e-5;

    /// <summary>Absolute floor for values near zero.</summary>
    public const double AbsTol = 1e-6;

    /// <summary>A seeded standard-normal float32 tensor: the same values on every device for the same seed.</summary>
    public static Tensor Randn(Device device, ulong seed, params long[] shape) =>
        Tensor.Randn(shape, new Generator(seed), device: device);

    /// <summary>Seeded uniform float32 values in [low, high).</summary>
    public static Tensor Rand(Device device, ulong seed, double low, double high, params long[] shape) =>
        Tensor.Rand(shape, new Generator(seed), low, high, device: device);

    /// <summary>Seeded Int64 values in [low, high).</summary>
    public static Tensor RandInt(Device device, ulong seed, long low, long high, params long[] shape) =>
        Tensor.RandInt(low, high, shape, new Generator(seed), device);

    /// <summary>Builds the computation on both devices and asserts the outputs agree.</summary>
    public static void Check(string op, Func<Device, Tensor[]> build)
    {
        using var scope = Tensor.Scope();
        var cpu = build(Device.Cpu);
        var torch = build(Device.TorchCpu);
        Assert.Equal(cpu.Length, torch.Length);
        for (int i = 0; i < cpu.Length; i++) Compare($"{op} (output {i})", cpu[i], torch[i]);
    }

    /// <summary>Asserts two tensors (any devices) have equal shape, dtype and values within tolerance.</summary>
    public static void Compare(string what, Tensor expected, Tensor actual)
    {
        if (!expected.Shape.AsSpan().SequenceEqual(actual.Shape))
            throw new XunitException($"{what}: shape {Tensor.ShapeString(expected.Shape)} on {expected.Device} vs {Tensor.ShapeString(actual.Shape)} on {actual.Device}");
        if (expected.DType != actual.DType)
            throw new XunitException($"{what}: dtype {expected.DType} on {expected.Device} vs {actual.DType} on {actual.Device}");
        switch (expected.DType)
        {
            case DType.Bool:
                AssertExact(what, expected.ToArray<bool>(), actual.ToArray<bool>());
                break;
            case DType.Int64 or DType.Int32 or DType.UInt8:
                AssertExact(what, expected.ToArray<long>(), actual.ToArray<long>());
                break;
            default:
                AssertClose(what, expected.ToArray<double>(), actual.ToArray<double>(), RelTol, AbsTol);
                break;
        }
    }

    private static void AssertExact<T>(string what, T[] expected, T[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            if (!EqualityComparer<T>.Default.Equals(expected[i], actual[i]))
                throw new XunitException($"{what}: element {i} differs: managed {expected[i]}, torch {actual[i]}");
    }

    /// <summary>|a - b| &lt;= max(abs, rel * max(|a|, |b|)) element-wise; NaN matches NaN.</summary>
    public static void AssertClose(string what, double[] expected, double[] actual, double rel = RelTol, double abs = AbsTol)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double a = expected[i], b = actual[i];
            if (double.IsNaN(a) && double.IsNaN(b)) continue;
            if (a == b) continue;
            double tol = Math.Max(abs, rel * Math.Max(Math.Abs(a), Math.Abs(b)));
            double err = Math.Abs(a - b);
            if (!(err <= tol) && (worstAt < 0 || err / tol > worst)) { worst = err / tol; worstAt = i; }
        }
        if (worstAt >= 0)
            throw new XunitException($"{what}: element {worstAt}: expected {expected[worstAt]:R}, got {actual[worstAt]:R} ({worst:F1}x the tolerance)");
    }
}
