using MechInterp.Optim;
using MechInterp.Training.Datasets;

namespace MechInterp.Training;

/// <summary>
/// Elhage et al. (2022)'s ReLU output model: n features squeezed into m &lt; n hidden dimensions, h = W·x, and read back
/// as x' = ReLU(Wᵀ·h + b), trained to minimise the importance-weighted squared error Σᵢ Iᵢ (xᵢ − x'ᵢ)². Dense features
/// get the m most important ones, orthogonal; sparse features are stored in superposition (more features than
/// dimensions, at fractional dimensionalities).
/// </summary>
public sealed class ToySuperpositionModel
{
    /// <summary>A model of <paramref name="features"/> features in <paramref name="hidden"/> dimensions, W initialised
    /// Xavier-normal with <paramref name="generator"/>, b zero.</summary>
    public ToySuperpositionModel(int features, int hidden, Generator generator, Device? device = null)
    {
        if (features <= 0 || hidden <= 0) throw new ArgumentException($"features ({features}) and hidden ({hidden}) must be positive");
        var dev = device ?? Device.Cpu;
        W = Tensor.Randn([hidden, features], generator, 0, Math.Sqrt(2.0 / (hidden + features)), device: dev).DetachFromScopes();
        B = Tensor.Zeros([features], device: dev).DetachFromScopes();
        W.RequiresGrad = true;
        B.RequiresGrad = true;
    }

    /// <summary>W [hidden, features]: column i is feature i's direction.</summary>
    public Tensor W { get; }
    /// <summary>b [features].</summary>
    public Tensor B { get; }
    /// <summary>Number of features n.</summary>
    public int Features => (int)W.Shape[1];
    /// <summary>Hidden dimensions m.</summary>
    public int Hidden => (int)W.Shape[0];

    /// <summary>x' = ReLU(Wᵀ W x + b) for x [batch, features].</summary>
    public Tensor Forward(Tensor x)
    {
        var h = x.MatMul(W.T);                // [batch, hidden]
        return (h.MatMul(W) + B).Relu();      // [batch, features]
    }

    /// <summary>Trains with Adam (lr <paramref name="learningRate"/>) on fresh batches from <paramref name="data"/>;
    /// returns the final loss. Reports (step, loss) every 100 steps to <paramref name="progress"/>.</summary>
    public double Train(SparseFeatures data, int steps, int batchSize, Generator generator, double learningRate = 1e-3, IProgress<(int Step, double Loss)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Features != Features) throw new ArgumentException($"the data has {data.Features} features, the model {Features}", nameof(data));
        var optimizer = new Adam([W, B], learningRate);
        var importance = Tensor.FromArray(data.Importance.Select(v => (float)v).ToArray(), Features).To(W.Device);
        double last = double.NaN;
        for (int step = 1; step <= steps; step++)
        {
            using var scope = Tensor.Scope();
            var x = data.Sample(batchSize, generator, W.Device); // [batch, features]
            var error = (x - Forward(x)).Square() * importance;
            var loss = error.Sum(-1).Mean();
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
            if (step % 100 == 0 || step == steps)
            {
                last = loss.To(DType.Float64).Item<double>();
                progress?.Report((step, last));
            }
        }
        optimizer.ZeroGrad();
        return last;
    }

    /// <summary>‖Wᵢ‖ per feature [features]: about 1 for a represented feature, 0 for an ignored one.</summary>
    public double[] FeatureNorms()
    {
        var w = Values();
        return [.. Enumerable.Range(0, Features).Select(i => Math.Sqrt(Enumerable.Range(0, Hidden).Sum(r => w[r, i] * w[r, i])))];
    }

    /// <summary>Features per dimension ‖W‖_F² / m (the inverse of the paper's "dimensions per feature").</summary>
    public double FeaturesPerDimension() => FeatureNorms().Sum(n => n * n) / Hidden;

    /// <summary>Each feature's dimensionality Dᵢ = ‖Wᵢ‖² / Σⱼ (Ŵᵢ·Wⱼ)²: 1 for a feature with a dimension of its own,
    /// 1/2 for an antipodal pair, 0 for an ignored feature.</summary>
    public double[] FeatureDimensionalities()
    {
        var w = Values();
        var norms = FeatureNorms();
        var d = new double[Features];
        for (int i = 0; i < Features; i++)
        {
            if (norms[i] < 1e-6) continue;
            double interference = 0;
            for (int j = 0; j < Features; j++)
            {
                double dot = 0;
                for (int r = 0; r < Hidden; r++) dot += w[r, i] / norms[i] * w[r, j];
                interference += dot * dot;
            }
            d[i] = norms[i] * norms[i] / interference;
        }
        return d;
    }

    /// <summary>The cosine similarity of two features' directions.</summary>
    public double Cosine(int i, int j)
    {
        var w = Values();
        double dot = 0, a = 0, b = 0;
        for (int r = 0; r < Hidden; r++) { dot += w[r, i] * w[r, j]; a += w[r, i] * w[r, i]; b += w[r, j] * w[r, j]; }
        return dot / Math.Sqrt(a * b);
    }

    private double[,] Values()
    {
        var v = W.To(Device.Cpu).To(DType.Float64).Contiguous().ToArray<double>();
        var m = new double[Hidden, Features];
        for (int r = 0; r < Hidden; r++) for (int c = 0; c < Features; c++) m[r, c] = v[r * Features + c];
        return m;
    }
}
