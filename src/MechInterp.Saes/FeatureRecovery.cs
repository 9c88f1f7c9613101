namespace MechInterp.Saes;

/// <summary>
/// How well learned dictionary directions recover known features (ground-truth evaluation): mean max cosine
/// similarity (MMCS, Sharkey et al. 2022: for each true feature the best |cos| with any learned direction, averaged
/// over true features) and the one-to-one version (SynthSAEBench): the mean |cos| after a Hungarian matching of true
/// features to distinct learned directions that maximises the total |cos|.
/// </summary>
public static class FeatureRecovery
{
    /// <summary>|cos| between every true feature [n, d] and every learned direction [m, d] → [n, m] (double, row-major).</summary>
    public static double[,] AbsCosines(Tensor trueFeatures, Tensor learned)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        if (trueFeatures.Rank != 2 || learned.Rank != 2 || trueFeatures.Shape[1] != learned.Shape[1])
            throw new ArgumentException($"features [n, d] and learned directions [m, d] must share d: got {Tensor.ShapeString(trueFeatures.Shape)} and {Tensor.ShapeString(learned.Shape)}");
        var a = trueFeatures.To(Device.Cpu).To(DType.Float64);
        var b = learned.To(Device.Cpu).To(DType.Float64);
        a = a / a.Norm(2, 1, keepDim: true);
        b = b / b.Norm(2, 1, keepDim: true);
        var cos = a.MatMul(b.T).Abs().ToArray<double>(); // [n, m]
        int n = (int)a.Shape[0], m = (int)b.Shape[0];
        var result = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) result[i, j] = cos[(long)i * m + j];
        return result;
    }

    /// <summary>Mean over true features of the largest |cos| with any learned direction.</summary>
    public static double MeanMaxCosine(Tensor trueFeatures, Tensor learned)
    {
        var c = AbsCosines(trueFeatures, learned);
        int n = c.GetLength(0), m = c.GetLength(1);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double best = 0;
            for (int j = 0; j < m; j++) best = Math.Max(best, c[i, j]);
            sum += best;
        }
        return sum / n;
    }

    /// <summary>Mean |cos| of a one-to-one matching (true feature → distinct learned direction) that maximises the total;
    /// needs at least as many learned directions as true features.</summary>
    public static double MatchedMeanAbsCosine(Tensor trueFeatures, Tensor learned)
    {
        var c = AbsCosines(trueFeatures, learned);
        int n = c.GetLength(0), m = c.GetLength(1);
        if (m < n) throw new ArgumentException($"a one-to-one matching needs at least as many learned directions ({m}) as true features ({n})", nameof(learned));
        var cost = new double[n, m];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) cost[i, j] = 1 - c[i, j];
        var assignment = HungarianAssignment.Solve(cost);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += c[i, assignment[i]];
        return sum / n;
    }
}
