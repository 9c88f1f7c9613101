namespace MechInterp;

/// <summary>Element type of a <see cref="Tensor"/>.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the compute type of every model.</summary>
    Float32,
    /// <summary>64-bit IEEE float (managed CPU backend; used for gradient checks).</summary>
    Float64,
    /// <summary>16-bit IEEE half float (storage; Torch backends also compute in it).</summary>
    Float16,
    /// <summary>bfloat16 (storage; Torch backends also compute in it).</summary>
    BFloat16,
    /// <summary>64-bit signed integer (token ids, indices).</summary>
    Int64,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>Unsigned byte.</summary>
    UInt8,
    /// <summary>Boolean (masks and comparison results).</summary>
    Bool,
}

/// <summary>Facts about <see cref="DType"/> values.</summary>
public static class DTypeExtensions
{
    /// <summary>Size of one element in bytes.</summary>
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Float16 or DType.BFloat16 => 2,
        DType.UInt8 or DType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The .NET element type that carries <paramref name="dtype"/> in arrays (BFloat16 as its ushort bits).</summary>
    public static Type ElementType(this DType dtype) => dtype switch
    {
        DType.Float32 => typeof(float),
        DType.Float64 => typeof(double),
        DType.Float16 => typeof(Half),
        DType.BFloat16 => typeof(ushort),
        DType.Int64 => typeof(long),
        DType.Int32 => typeof(int),
        DType.UInt8 => typeof(byte),
        DType.Bool => typeof(bool),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>True for the floating-point types.</summary>
    public static bool IsFloatingPoint(this DType dtype) =>
        dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    /// <summary>True for integer types (not Bool).</summary>
    public static bool IsInteger(this DType dtype) => dtype is DType.Int64 or DType.Int32 or DType.UInt8;

    /// <summary>The dtype the result of a binary op between <paramref name="a"/> and <paramref name="b"/> has
    /// (float beats integer beats bool; wider float beats narrower).</summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        static int Rank(DType d) => d switch
        {
            DType.Bool => 0, DType.UInt8 => 1, DType.Int32 => 2, DType.Int64 => 3,
            DType.Float16 => 4, DType.BFloat16 => 4, DType.Float32 => 5, DType.Float64 => 6, _ => 0,
        };
        if ((a == DType.Float16 && b == DType.BFloat16) || (a == DType.BFloat16 && b == DType.Float16)) return DType.Float32;
        return Rank(a) >= Rank(b) ? a : b;
    }
}
