using MathNet.Numerics.LinearAlgebra;
using MechInterp.Optim;

namespace MechInterp.Analysis;

/// <summary>A trained probe: class scores = features · <see cref="Weight"/> + <see cref="Bias"/>.</summary>
/// <param name="Weight">[d, classes].</param>
/// <param name="Bias">[classes].</param>
/// <param name="TrainAccuracy">Accuracy on the training split.</param>
/// <param name="TestAccuracy">Accuracy on the held-out split.</param>
/// <param name="TrainCount">Rows trained on.</param>
/// <param name="TestCount">Rows held out.</param>
public sealed record ProbeResult(Tensor Weight, Tensor Bias, double TrainAccuracy, double TestAccuracy, int TrainCount, int TestCount)
{
    /// <summary>Class scores [n, classes] of <paramref name="features"/> [n, d].</summary>
    public Tensor Scores(Tensor features) => features.To(Weight.Device).To(Weight.DType).MatMul(Weight) + Bias;

    /// <summary>Predicted classes [n].</summary>
    public Tensor Predict(Tensor features) => Scores(features).ArgMax(-1);

    /// <summary>The direction [d] along which <paramref name="cls"/>'s score rises against the others' mean (for two
    /// classes, W[:, 1] − W[:, 0]): usable as a steering vector (<see cref="Steering.Add"/>).</summary>
    public Tensor Direction(int cls = 1)
    {
        long classes = Weight.Shape[1];
        if (cls < 0 || cls >= classes) throw new ArgumentOutOfRangeException(nameof(cls), cls, $"the probe has classes 0..{classes - 1}");
        var own = Weight.Select(1, cls);
        return classes == 2 ? own - Weight.Select(1, 1 - cls) : own - Weight.Mean(1);
    }
}

/// <summary>
/// Linear probes on cached activations: does a layer linearly encode a property? A random held-out split measures
/// generalisation. <see cref="TrainLogistic"/> fits softmax regression with the library's autograd and AdamW;
/// <see cref="TrainLinear"/> fits least squares onto one-hot targets in closed form (ridge, float64 via MathNet).
/// </summary>
public static class Probes
{
    /// <summary>Rows [batch·pos, d] of a cached activation [batch, pos, d] with their labels [batch, pos] flattened.</summary>
    public static (Tensor Features, Tensor Labels) FromCache(ActivationCache cache, string hookName, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(cache);
        var act = cache[hookName];
        if (act.Rank != 3) throw new ArgumentException($"'{hookName}' is {Tensor.ShapeString(act.Shape)}: probes read [batch, pos, d] activations", nameof(hookName));
        if (labels.NumElements != act.Shape[0] * act.Shape[1])
            throw new ArgumentException($"labels {Tensor.ShapeString(labels.Shape)} must give one class per [batch, pos] = [{act.Shape[0]}, {act.Shape[1]}] position", nameof(labels));
        return (act.Reshape(-1, act.Shape[2]), labels.Reshape(-1).To(DType.Int64));
    }

    /// <summary>Softmax regression on <paramref name="features"/> [n, d] and integer <paramref name="labels"/> [n]
    /// (classes 0..k-1), full batch, <paramref name="steps"/> AdamW steps; <paramref name="testFraction"/> of the rows,
    /// drawn with <paramref name="seed"/>, are held out.</summary>
    public static ProbeResult TrainLogistic(Tensor features, Tensor labels, double testFraction = 0.2, int steps = 300,
        double learningRate = 1e-2, double weightDecay = 1e-4, ulong seed = 0)
    {
        var (trainX, trainY, testX, testY, classes) = Split(features, labels, testFraction, seed);
        long d = trainX.Shape[1];
        var w = Tensor.Zeros([d, classes], device: trainX.Device).DetachFromScopes();
        var b = Tensor.Zeros([classes], device: trainX.Device).DetachFromScopes();
        w.RequiresGrad = true;
        b.RequiresGrad = true;
        var optimizer = new AdamW([w, b], learningRate, weightDecay: weightDecay);
        var targets = trainY.Unsqueeze(-1);
        for (int step = 0; step < steps; step++)
        {
            using var scope = Tensor.Scope();
            var logp = (trainX.MatMul(w) + b).LogSoftmax(-1);            // [n, classes]
            var loss = -logp.Gather(1, targets).Mean();
            optimizer.ZeroGrad();
            loss.Backward();
            optimizer.Step();
        }
        optimizer.ZeroGrad();
        w.RequiresGrad = false;
        b.RequiresGrad = false;
        return Result(w, b, trainX, trainY, testX, testY);
    }

    /// <summary>Least squares (ridge <paramref name="ridge"/>) from <paramref name="features"/> [n, d] with a bias onto
    /// one-hot <paramref name="labels"/> [n]; the predicted class is the largest fitted score.</summary>
    public static ProbeResult TrainLinear(Tensor features, Tensor labels, double testFraction = 0.2, double ridge = 1e-3, ulong seed = 0)
    {
        var (trainX, trainY, testX, testY, classes) = Split(features, labels, testFraction, seed);
        int n = (int)trainX.Shape[0], d = (int)trainX.Shape[1];
        var x = trainX.To(Device.Cpu).To(DType.Float64).Contiguous().ToArray<double>();
        var y = trainY.To(Device.Cpu).ToArray<long>();
        var design = Matrix<double>.Build.Dense(n, d + 1, (i, j) => j < d ? x[i * d + j] : 1.0);
        var target = Matrix<double>.Build.Dense(n, classes, (i, c) => y[i] == c ? 1.0 : 0.0);
        var gram = design.TransposeThisAndMultiply(design) + Matrix<double>.Build.DenseDiagonal(d + 1, d + 1, i => i < d ? ridge : 0);
        var solution = gram.Solve(design.TransposeThisAndMultiply(target)); // [d + 1, classes]
        var wValues = new float[d * classes];
        var bValues = new float[classes];
        for (int c = 0; c < classes; c++)
        {
            for (int j = 0; j < d; j++) wValues[j * classes + c] = (float)solution[j, c];
            bValues[c] = (float)solution[d, c];
        }
        var w = Tensor.FromArray(wValues, d, classes).To(trainX.Device);
        var b = Tensor.FromArray(bValues, classes).To(trainX.Device);
        return Result(w, b, trainX, trainY, testX, testY);
    }

    private static ProbeResult Result(Tensor w, Tensor b, Tensor trainX, Tensor trainY, Tensor testX, Tensor testY)
    {
        var probe = new ProbeResult(w, b, 0, 0, (int)trainX.Shape[0], (int)testX.Shape[0]);
        return probe with { TrainAccuracy = Accuracy(probe, trainX, trainY), TestAccuracy = testX.Shape[0] == 0 ? double.NaN : Accuracy(probe, testX, testY) };
    }

    private static double Accuracy(ProbeResult probe, Tensor x, Tensor y)
    {
        var predicted = probe.Predict(x).To(Device.Cpu).ToArray<long>();
        var truth = y.To(Device.Cpu).ToArray<long>();
        return predicted.Zip(truth).Count(t => t.First == t.Second) / (double)truth.Length;
    }

    private static (Tensor TrainX, Tensor TrainY, Tensor TestX, Tensor TestY, int Classes) Split(Tensor features, Tensor labels, double testFraction, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.Rank != 2) throw new ArgumentException($"features must be [n, d], got {Tensor.ShapeString(features.Shape)}", nameof(features));
        long n = features.Shape[0];
        if (labels.NumElements != n) throw new ArgumentException($"labels must be [n] = [{n}], got {Tensor.ShapeString(labels.Shape)}", nameof(labels));
        if (testFraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "testFraction must be in [0, 1)");
        var y = labels.Reshape(-1).To(Device.Cpu).To(DType.Int64).ToArray<long>();
        if (y.Any(v => v < 0)) throw new ArgumentException("labels are class ids 0..k-1", nameof(labels));
        int classes = (int)Math.Max(2, y.Max() + 1);
        var order = Enumerable.Range(0, (int)n).ToArray();
        var g = new Generator(seed);
        for (int i = order.Length - 1; i > 0; i--) { int j = (int)g.NextInt64(0, i + 1); (order[i], order[j]) = (order[j], order[i]); }
        int test = (int)(n * testFraction);
        if (n - test < 2) throw new ArgumentException($"{n} rows leave too few to train on after holding out {test}", nameof(features));
        var x = features.To(DType.Float32).Detach();
        var labelsTensor = Tensor.FromArray(y, y.Length).To(x.Device);
        Tensor Rows(int[] idx) => x.IndexSelect(0, Tensor.FromArray(idx.Select(i => (long)i).ToArray(), idx.Length).To(x.Device));
        Tensor Labels(int[] idx) => labelsTensor.IndexSelect(0, Tensor.FromArray(idx.Select(i => (long)i).ToArray(), idx.Length).To(x.Device));
        int[] testIdx = order[..test], trainIdx = order[test..];
        return (Rows(trainIdx), Labels(trainIdx), test == 0 ? x.Narrow(0, 0, 0) : Rows(testIdx), test == 0 ? labelsTensor.Narrow(0, 0, 0) : Labels(testIdx), classes);
    }
}
