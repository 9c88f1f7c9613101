namespace MechInterp.Analysis;

/// <summary>
/// The discrete Fourier spectrum of a table indexed by a residue a = 0..p-1 (Nanda et al. 2023's view of a modular
/// addition model's embedding): for each frequency k = 0..⌊p/2⌋, the squared norm of the table projected on
/// cos(2πka/p) and sin(2πka/p) (orthonormal bases over a), summed over the table's other dimension.
/// A grokked model puts most of its embedding's norm on a few "key frequencies".
/// </summary>
public sealed class FourierSpectrum
{
    private FourierSpectrum(int modulus, double[] power) => (Modulus, Power) = (modulus, power);

    /// <summary>p.</summary>
    public int Modulus { get; }

    /// <summary>Squared norm per frequency k = 0..⌊p/2⌋ (k = 0 is the constant component).</summary>
    public IReadOnlyList<double> Power { get; }

    /// <summary>The spectrum of <paramref name="table"/> [p, d] over its first dim (e.g. W_E's first p rows).</summary>
    public static FourierSpectrum Of(Tensor table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Rank != 2) throw new ArgumentException($"the table must be [p, d], got {Tensor.ShapeString(table.Shape)}", nameof(table));
        int p = (int)table.Shape[0], d = (int)table.Shape[1];
        if (p < 3) throw new ArgumentException("the table needs at least 3 rows (residues)", nameof(table));
        var values = table.To(Device.Cpu).To(DType.Float64).Contiguous().ToArray<double>();
        var power = new double[p / 2 + 1];
        for (int k = 0; k <= p / 2; k++)
        {
            // cos and sin bases normalised over a (the constant and, for even p, the Nyquist cosine have norm √p)
            bool single = k == 0 || 2 * k == p;
            double scale = single ? 1 / Math.Sqrt(p) : Math.Sqrt(2.0 / p);
            for (int j = 0; j < d; j++)
            {
                double c = 0, s = 0;
                for (int a = 0; a < p; a++)
                {
                    double angle = 2 * Math.PI * k * a / p, x = values[a * d + j];
                    c += x * Math.Cos(angle);
                    s += x * Math.Sin(angle);
                }
                power[k] += scale * scale * (c * c + (single ? 0 : s * s));
            }
        }
        return new FourierSpectrum(p, power);
    }

    /// <summary>The <paramref name="count"/> non-constant frequencies with the most power, strongest first.</summary>
    public int[] KeyFrequencies(int count) =>
        [.. Enumerable.Range(1, Power.Count - 1).OrderByDescending(k => Power[k]).Take(count)];

    /// <summary>The fraction of the non-constant power that <paramref name="frequencies"/> carry.</summary>
    public double FractionOf(IEnumerable<int> frequencies)
    {
        double total = Power.Skip(1).Sum();
        return total == 0 ? 0 : frequencies.Sum(k => Power[k]) / total;
    }
}
