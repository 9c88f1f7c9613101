using System.Numerics;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// The fused, in-place Adam/AdamW update (<see cref="AdamStepArgs"/>) over dense spans: one pass reads p, g, m, v and
/// writes p, m, v, with no temporaries (the composite form makes ~12 tensors of the parameter's size per step).
/// </summary>
internal static class AdamKernel
{
    /// <summary>Updates <paramref name="p"/>, <paramref name="m"/> and <paramref name="v"/> in place from <paramref name="g"/>.</summary>
    public static void Update<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> m, Span<T> v, in AdamStepArgs a)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T b1 = T.CreateChecked(a.Beta1), c1 = T.CreateChecked(1 - a.Beta1);
        T b2 = T.CreateChecked(a.Beta2), c2 = T.CreateChecked(1 - a.Beta2);
        T eps = T.CreateChecked(a.Eps), l2 = T.CreateChecked(a.L2), decay = T.CreateChecked(a.DecayFactor);
        T stepSize = T.CreateChecked(a.StepSize), bc2Sqrt = T.CreateChecked(a.BiasCorrection2Sqrt);
        int i = 0, w = Vector<T>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            Vector<T> vb1 = new(b1), vc1 = new(c1), vb2 = new(b2), vc2 = new(c2), veps = new(eps), vl2 = new(l2),
                vdecay = new(decay), vstep = new(stepSize), vbc2 = new(bc2Sqrt);
            for (; i <= p.Length - w; i += w)
            {
                var pv = new Vector<T>(p.Slice(i, w));
                var gv = new Vector<T>(g.Slice(i, w)) + vl2 * pv;
                var mv = vb1 * new Vector<T>(m.Slice(i, w)) + vc1 * gv;
                var sq = vb2 * new Vector<T>(v.Slice(i, w)) + vc2 * gv * gv;
                var denom = Vector.SquareRoot(sq) / vbc2 + veps;
                (pv * vdecay - vstep * mv / denom).CopyTo(p.Slice(i, w));
                mv.CopyTo(m.Slice(i, w));
                sq.CopyTo(v.Slice(i, w));
            }
        }
        for (; i < p.Length; i++)
        {
            T pi = p[i], gi = g[i] + l2 * pi;
            T mi = b1 * m[i] + c1 * gi;
            T vi = b2 * v[i] + c2 * gi * gi;
            p[i] = pi * decay - stepSize * mi / (T.Sqrt(vi) / bc2Sqrt + eps);
            m[i] = mi;
            v[i] = vi;
        }
    }
}
