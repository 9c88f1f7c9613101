using MechInterp.Analysis;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>The Fourier spectrum against tables built from known frequencies (Parseval: power sums to the norm²).</summary>
public sealed class FourierSpectrumTests
{
    [Fact]
    public void FindsThePlantedFrequenciesAndConservesTheNorm()
    {
        const int p = 13, d = 4;
        var table = new double[p * d];
        for (int a = 0; a < p; a++)
        {
            table[a * d + 0] = Math.Cos(2 * Math.PI * 3 * a / p);           // frequency 3
            table[a * d + 1] = 2 * Math.Sin(2 * Math.PI * 5 * a / p + 0.4);  // frequency 5, twice the amplitude
            table[a * d + 2] = 1.5;                                          // constant
            table[a * d + 3] = Math.Cos(2 * Math.PI * 3 * a / p + 1);        // frequency 3 again
        }
        var spectrum = FourierSpectrum.Of(Tensor.FromArray(table, p, d));
        Assert.Equal(p / 2 + 1, spectrum.Power.Count);
        Assert.Equal(table.Sum(x => x * x), spectrum.Power.Sum(), 9);         // Parseval
        Assert.Equal([5, 3], spectrum.KeyFrequencies(2));
        Assert.Equal(1.0, spectrum.FractionOf([3, 5]), 9);
        Assert.Equal(1.5 * 1.5 * p, spectrum.Power[0], 9);
        Assert.Equal(4 * p / 2.0, spectrum.Power[5], 9);                       // amplitude² · p / 2
        Assert.Equal(2.0 / 3, spectrum.FractionOf([5]), 9);                    // 2p of 2p + p (two unit cosines at 3)
    }
}
