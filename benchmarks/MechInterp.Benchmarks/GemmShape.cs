using System.Globalization;

namespace MechInterp.Benchmarks;

/// <summary>An [M×K]·[K×N] matrix product shape, written "MxKxN".</summary>
/// <param name="M">Rows of A and C.</param>
/// <param name="K">Columns of A, rows of B (the summed dimension).</param>
/// <param name="N">Columns of B and C.</param>
public readonly record struct GemmShape(int M, int K, int N)
{
    /// <summary>Floating-point operations of the product (one multiply and one add per term).</summary>
    public double Flops => 2.0 * M * K * N;

    /// <summary>Parses "MxKxN", e.g. "128x768x2304".</summary>
    public static GemmShape Parse(string text)
    {
        string[] parts = text.Split('x');
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
            throw new FormatException($"GEMM shape '{text}' must be three positive integers written MxKxN, e.g. 128x768x2304.");
        return new GemmShape(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }
}
