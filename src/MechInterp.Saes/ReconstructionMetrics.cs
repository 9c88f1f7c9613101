namespace MechInterp.Saes;

/// <summary>
/// How well an SAE reconstructs a batch of activations, as SAEBench's core evaluation defines it (N rows of width d,
/// x̂ the reconstruction, f the latents):
/// <list type="bullet">
/// <item><see cref="L0"/> = (1/N) Σ_rows #{i : f_i ≠ 0};  <see cref="L1"/> = (1/N) Σ_rows Σ_i |f_i|.</item>
/// <item><see cref="Mse"/> = (1/(N·d)) Σ_rows Σ_j (x_j − x̂_j)² (mean over every element).</item>
/// <item><see cref="ExplainedVariance"/> = 1 − Σ_rows Σ_j (x_j − x̂_j)² / Σ_rows Σ_j (x_j − x̄_j)², x̄ the mean row
/// of the batch (total residual variance over total variance, not a mean of per-row ratios).</item>
/// <item><see cref="CosineSimilarity"/> = (1/N) Σ_rows x·x̂ / (‖x‖ ‖x̂‖);  <see cref="L2Ratio"/> = (1/N) Σ_rows ‖x̂‖/‖x‖.</item>
/// </list>
/// </summary>
/// <param name="L0">Mean non-zero latents per row.</param>
/// <param name="L1">Mean Σ|f| per row.</param>
/// <param name="Mse">Mean squared error per element.</param>
/// <param name="ExplainedVariance">Fraction of the batch's variance the reconstruction explains.</param>
/// <param name="CosineSimilarity">Mean cosine similarity of x and x̂.</param>
/// <param name="L2Ratio">Mean ‖x̂‖/‖x‖.</param>
public sealed record ReconstructionMetrics(double L0, double L1, double Mse, double ExplainedVariance, double CosineSimilarity, double L2Ratio)
{
    /// <summary>The metrics of <paramref name="x"/> [rows, d], its reconstruction <paramref name="reconstruction"/> [rows, d]
    /// and the latents <paramref name="featureActs"/> [rows, d_sae], computed in float64.</summary>
    public static ReconstructionMetrics Compute(Tensor x, Tensor reconstruction, Tensor featureActs)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(reconstruction);
        ArgumentNullException.ThrowIfNull(featureActs);
        if (!x.Shape.AsSpan().SequenceEqual(reconstruction.Shape))
            throw new ArgumentException($"x {Tensor.ShapeString(x.Shape)} and its reconstruction {Tensor.ShapeString(reconstruction.Shape)} must have one shape");
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var a = x.Reshape(-1, x.Shape[^1]).To(DType.Float64);                                // [N, d]
        var b = reconstruction.Reshape(-1, x.Shape[^1]).To(a.Device).To(DType.Float64);      // [N, d]
        var f = featureActs.Reshape(-1, featureActs.Shape[^1]).To(DType.Float64);            // [N, d_sae]
        double l0 = (f != 0).To(DType.Float64).Sum(-1).Mean().Item<double>();
        double l1 = f.Abs().Sum(-1).Mean().Item<double>();
        var residual = (a - b).Square();
        double sse = residual.Sum().Item<double>();
        double mse = residual.Mean().Item<double>();
        double sst = (a - a.Mean(0, keepDim: true)).Square().Sum().Item<double>();
        var na = a.Norm(2, -1);                                                              // [N]
        var nb = b.Norm(2, -1);                                                              // [N]
        double cos = ((a * b).Sum(-1) / (na * nb)).Mean().Item<double>();
        double ratio = (nb / na).Mean().Item<double>();
        return new ReconstructionMetrics(l0, l1, mse, sst > 0 ? 1 - sse / sst : double.NaN, cos, ratio);
    }

    /// <summary>The metrics of <paramref name="sae"/> on activations <paramref name="x"/> [rows, d_in] (transcoders: pass
    /// the output hook's activations as <paramref name="target"/>).</summary>
    public static ReconstructionMetrics Of(Sae sae, Tensor x, Tensor? target = null)
    {
        ArgumentNullException.ThrowIfNull(sae);
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var f = sae.Encode(x);
        var xHat = sae.Decode(f);
        return Compute(target ?? x, xHat, f);
    }
}
