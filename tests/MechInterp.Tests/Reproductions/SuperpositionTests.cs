using MechInterp.Training;
using MechInterp.Training.Datasets;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Reproductions;

/// <summary>
/// Elhage et al. (2022): 20 features with importance 0.7^i in 5 dimensions through the ReLU output model. Dense
/// features: only the 5 most important are kept, orthogonal. Sparse features: more features than dimensions, stored in
/// superposition at fractional dimensionalities (antipodal pairs at 1/2, pentagons at 2/5, ...).
/// </summary>
public sealed class SuperpositionTests(ITestOutputHelper output)
{
    private (ToySuperpositionModel Model, double Loss) Train(double sparsity)
    {
        var data = new SparseFeatures(20, sparsity, SparseFeatures.GeometricImportance(20, 0.7));
        var model = new ToySuperpositionModel(20, 5, new Generator(7));
        double loss = model.Train(data, steps: 4000, batchSize: 1024, new Generator(11), learningRate: 1e-3);
        var norms = model.FeatureNorms();
        output.WriteLine($"S={sparsity}: loss {loss:E3}; features/dim {model.FeaturesPerDimension():F2}; represented {norms.Count(n => n > 0.5)}; " +
            $"norms {string.Join(" ", norms.Select(n => n.ToString("F2")))}; D {string.Join(" ", model.FeatureDimensionalities().Select(d => d.ToString("F2")))}");
        return (model, loss);
    }

    [Fact]
    public void DenseFeaturesStayOrthogonalAndSparseOnesGoIntoSuperposition()
    {
        var (dense, _) = Train(0.0);
        var (middle, _) = Train(0.9);
        var (sparse, _) = Train(0.99);

        // Dense: exactly the five most important features, each with a dimension of its own.
        var norms = dense.FeatureNorms();
        Assert.All(norms.Take(5), n => Assert.True(n > 0.9, $"an important feature has norm {n:F2}"));
        Assert.All(norms.Skip(5), n => Assert.True(n < 0.5, $"a sixth feature is represented (norm {n:F2})"));
        for (int i = 0; i < 5; i++)
            for (int j = i + 1; j < 5; j++) Assert.True(Math.Abs(dense.Cosine(i, j)) < 0.1, $"features {i}, {j}: cosine {dense.Cosine(i, j):F2}");
        Assert.All(dense.FeatureDimensionalities().Take(4), d => Assert.True(d > 0.95, $"dimensionality {d:F2}"));
        Assert.InRange(dense.FeaturesPerDimension(), 0.9, 1.1);

        // Sparse: more features than dimensions, each at a fraction of a dimension.
        var sparseNorms = sparse.FeatureNorms();
        int represented = sparseNorms.Count(n => n > 0.5);
        Assert.True(represented >= 10, $"{represented} features represented in 5 dimensions");
        Assert.True(sparse.FeaturesPerDimension() >= 2, $"features per dimension {sparse.FeaturesPerDimension():F2}");
        var dims = sparse.FeatureDimensionalities();
        for (int i = 0; i < 20; i++)
            if (sparseNorms[i] > 0.9) Assert.InRange(dims[i], 0.25, 0.6);

        // Superposition grows with sparsity.
        Assert.True(dense.FeaturesPerDimension() < middle.FeaturesPerDimension() && middle.FeaturesPerDimension() < sparse.FeaturesPerDimension(),
            $"features per dimension {dense.FeaturesPerDimension():F2}, {middle.FeaturesPerDimension():F2}, {sparse.FeaturesPerDimension():F2}");
    }

    [Fact]
    public void SparseFeaturesHaveTheAskedDensityAndRange()
    {
        var data = new SparseFeatures(10, 0.8);
        var x = data.Sample(2000, new Generator(3)).ToArray<float>();
        double active = x.Count(v => v > 0) / (double)x.Length;
        Assert.InRange(active, 0.18, 0.22);                 // 1 - S
        Assert.All(x, v => Assert.InRange(v, 0, 1));
        Assert.Equal(0.7 * 0.7, SparseFeatures.GeometricImportance(3, 0.7)[2], 12);
    }
}
