using MechInterp.Patching;

namespace MechInterp.Attribution;

/// <summary>
/// How well attribution patching's estimates agree with exact activation patching on the same sites: Pearson
/// correlation of estimated and true effects, the overlap of their top-k sites by magnitude, and the largest error.
/// </summary>
/// <remarks>
/// The true effect of a site is <c>patched − base</c> (the raw sweep minus the unpatched base run's metric); AtP estimates
/// exactly that. Report these numbers rather than assume agreement: on small random models AtP can be poor (Pearson r
/// near 0 or negative for some site kinds), and it is exactly the sites with the largest effects (saturated attention,
/// large activation differences) where first order misleads most.
/// </remarks>
/// <param name="PearsonR">Pearson correlation of estimated and true effects over all sites (NaN when either is constant).</param>
/// <param name="TopKOverlap">|top-k by |estimate| ∩ top-k by |true effect|| / k.</param>
/// <param name="K">The k used.</param>
/// <param name="MaxAbsError">max |estimate − true effect|.</param>
/// <param name="MaxAbsEffect">max |true effect| (the scale of the error).</param>
/// <param name="Sites">Number of sites compared.</param>
public sealed record AttributionAgreement(double PearsonR, double TopKOverlap, int K, double MaxAbsError, double MaxAbsEffect, int Sites)
{
    /// <summary>Compares an AtP estimate with the raw results of the same activation-patching sweep.</summary>
    /// <param name="estimate">AtP result (e.g. <see cref="AttributionPatching.ResidPre"/>).</param>
    /// <param name="patched">Raw metric values of the matching sweep (e.g. <see cref="ActivationPatching.ResidPre"/>), same shape.</param>
    /// <param name="baseMetric">The metric of the unpatched base run.</param>
    /// <param name="k">How many top sites to compare (clamped to the number of sites; default 10).</param>
    /// <exception cref="ArgumentException">The shapes differ or there are no sites.</exception>
    public static AttributionAgreement Compare(Tensor estimate, Tensor patched, double baseMetric, int k = 10)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(patched);
        if (!estimate.Shape.SequenceEqual(patched.Shape))
            throw new ArgumentException($"the estimate is {Tensor.ShapeString(estimate.Shape)} but the patching results are {Tensor.ShapeString(patched.Shape)}: compare the AtP and patching sweeps of the same site kind", nameof(patched));
        var est = estimate.To(Device.Cpu).ToArray<double>();
        var effect = patched.To(Device.Cpu).ToArray<double>().Select(v => v - baseMetric).ToArray();
        if (est.Length == 0) throw new ArgumentException("there are no sites to compare", nameof(estimate));
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), $"k must be at least 1, got {k}");
        k = Math.Min(k, est.Length);
        double maxError = est.Zip(effect, (a, b) => Math.Abs(a - b)).Max();
        double maxEffect = effect.Max(Math.Abs);
        var topEst = TopK(est, k);
        var topTrue = TopK(effect, k);
        return new AttributionAgreement(Pearson(est, effect), (double)topEst.Intersect(topTrue).Count() / k, k, maxError, maxEffect, est.Length);
    }

    private static HashSet<int> TopK(double[] v, int k) =>
        Enumerable.Range(0, v.Length).OrderByDescending(i => Math.Abs(v[i])).ThenBy(i => i).Take(k).ToHashSet();

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }
}
