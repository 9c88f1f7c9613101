namespace MechInterp.Training.Datasets;

/// <summary>
/// Synthetic sparse features as in Elhage et al. (2022), "Toy Models of Superposition": each of
/// <see cref="Features"/> features is 0 with probability <see cref="Sparsity"/> and otherwise uniform in [0, 1),
/// independently; each carries an importance weight for the loss. Ground truth for superposition and dictionary-learning
/// experiments (the features are known, so what a model or an SAE recovers can be checked).
/// </summary>
public sealed class SparseFeatures
{
    /// <summary><paramref name="features"/> features, each zero with probability <paramref name="sparsity"/>;
    /// importances default to 1.</summary>
    public SparseFeatures(int features, double sparsity, IReadOnlyList<double>? importance = null)
    {
        if (features <= 0) throw new ArgumentOutOfRangeException(nameof(features), features, "features must be positive");
        if (sparsity is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity is a probability of zero in [0, 1)");
        if (importance is not null && importance.Count != features)
            throw new ArgumentException($"importance has {importance.Count} entries for {features} features", nameof(importance));
        Features = features;
        Sparsity = sparsity;
        Importance = importance ?? Enumerable.Repeat(1.0, features).ToArray();
    }

    /// <summary>Number of features.</summary>
    public int Features { get; }
    /// <summary>Probability that a feature is zero.</summary>
    public double Sparsity { get; }
    /// <summary>Loss weight of each feature.</summary>
    public IReadOnlyList<double> Importance { get; }

    /// <summary>Importance decaying geometrically: <paramref name="decay"/>^i for feature i (the paper uses 0.7 for 20 features).</summary>
    public static double[] GeometricImportance(int features, double decay) => [.. Enumerable.Range(0, features).Select(i => Math.Pow(decay, i))];

    /// <summary>A batch of feature vectors [batch, features].</summary>
    public Tensor Sample(int batch, Generator generator, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var values = new float[batch * Features];
        for (int i = 0; i < values.Length; i++)
        {
            bool active = generator.NextDouble() >= Sparsity;
            double v = generator.NextDouble();
            values[i] = active ? (float)v : 0f;
        }
        return Tensor.FromArray(values, batch, Features).To(device ?? Device.Cpu);
    }
}
