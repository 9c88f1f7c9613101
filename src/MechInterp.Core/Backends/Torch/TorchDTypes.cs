using TorchSharp;

namespace MechInterp.Backends.Torch;

/// <summary>Maps <see cref="DType"/> to libtorch scalar types and builds disposable scalars.</summary>
internal static class TorchDTypes
{
    /// <summary>The libtorch scalar type of <paramref name="dtype"/>.</summary>
    public static torch.ScalarType ToTorch(DType dtype) => dtype switch
    {
        DType.Float32 => torch.ScalarType.Float32,
        DType.Float64 => torch.ScalarType.Float64,
        DType.Float16 => torch.ScalarType.Float16,
        DType.BFloat16 => torch.ScalarType.BFloat16,
        DType.Int64 => torch.ScalarType.Int64,
        DType.Int32 => torch.ScalarType.Int32,
        DType.UInt8 => torch.ScalarType.Byte,
        DType.Bool => torch.ScalarType.Bool,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The <see cref="DType"/> of a libtorch scalar type.</summary>
    public static DType FromTorch(torch.ScalarType type) => type switch
    {
        torch.ScalarType.Float32 => DType.Float32,
        torch.ScalarType.Float64 => DType.Float64,
        torch.ScalarType.Float16 => DType.Float16,
        torch.ScalarType.BFloat16 => DType.BFloat16,
        torch.ScalarType.Int64 => DType.Int64,
        torch.ScalarType.Int32 => DType.Int32,
        torch.ScalarType.Byte => DType.UInt8,
        torch.ScalarType.Bool => DType.Bool,
        _ => throw new NotSupportedException($"libtorch scalar type {type} has no MechInterp dtype: convert it to one of {string.Join(", ", Enum.GetNames<DType>())}"),
    };


    /// <summary>A libtorch scalar holding <paramref name="value"/> in the kind <paramref name="dtype"/> needs
    /// (the caller disposes it).</summary>
    public static Scalar ScalarFor(double value, DType dtype) => dtype switch
    {
        DType.Bool => value != 0,
        DType.Int64 or DType.Int32 or DType.UInt8 => (long)value,
        _ => value,
    };

    /// <summary>True when <paramref name="value"/> is exactly an integer that fits a long.</summary>
    public static bool IsIntegral(double value) => Math.Floor(value) == value && Math.Abs(value) < 9.2e18;
}
