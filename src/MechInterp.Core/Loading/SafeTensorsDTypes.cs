namespace MechInterp;

/// <summary>The safetensors dtype names and their <see cref="DType"/> equivalents.</summary>
internal static class SafeTensorsDTypes
{
    /// <summary>The names this library reads and writes.</summary>
    public const string SupportedList = "F32, F16, BF16, F64, I64, I32, U8, BOOL";

    /// <summary>Maps a header dtype name to a <see cref="DType"/>; false for unknown or unsupported names.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Name, out DType dtype)
    {
        dtype = default;
        if (utf8Name.SequenceEqual("F32"u8)) dtype = DType.Float32;
        else if (utf8Name.SequenceEqual("F16"u8)) dtype = DType.Float16;
        else if (utf8Name.SequenceEqual("BF16"u8)) dtype = DType.BFloat16;
        else if (utf8Name.SequenceEqual("F64"u8)) dtype = DType.Float64;
        else if (utf8Name.SequenceEqual("I64"u8)) dtype = DType.Int64;
        else if (utf8Name.SequenceEqual("I32"u8)) dtype = DType.Int32;
        else if (utf8Name.SequenceEqual("U8"u8)) dtype = DType.UInt8;
        else if (utf8Name.SequenceEqual("BOOL"u8)) dtype = DType.Bool;
        else return false;
        return true;
    }

    /// <summary>Other dtype names of the safetensors format, which this library does not convert.</summary>
    public static bool IsKnownUnsupported(string name) => name is "I8" or "I16" or "U16" or "U32" or "U64"
        or "F8_E4M3" or "F8_E5M2" or "F8_E8M0" or "F4" or "F6_E2M3" or "F6_E3M2" or "C64";

    /// <summary>The safetensors name of <paramref name="dtype"/>.</summary>
    public static string ToName(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        DType.Int32 => "I32",
        DType.UInt8 => "U8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors name for this dtype"),
    };
}
