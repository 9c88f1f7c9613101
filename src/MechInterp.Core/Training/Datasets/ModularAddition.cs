namespace MechInterp.Training.Datasets;

/// <summary>
/// Modular addition as Nanda et al. (2023) train it for grokking: every pair (a, b) with 0 &lt;= a, b &lt; p as the
/// three tokens [a, b, =] (the token "=" has id p, so the vocabulary is p + 1), labelled (a + b) mod p, split at random
/// into a training and a test set. The model is trained on the logits at the last position only.
/// </summary>
public sealed class ModularAddition
{
    /// <summary>All p² pairs for modulus <paramref name="modulus"/>, a fraction <paramref name="trainFraction"/> of them
    /// (rounded down) for training, shuffled with <paramref name="seed"/>.</summary>
    public ModularAddition(int modulus, double trainFraction, ulong seed, Device? device = null)
    {
        if (modulus < 2) throw new ArgumentOutOfRangeException(nameof(modulus), modulus, "the modulus must be at least 2");
        if (trainFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(trainFraction), trainFraction, "trainFraction must be in (0, 1)");
        Modulus = modulus;
        var dev = device ?? Device.Cpu;
        int n = modulus * modulus;
        var order = Enumerable.Range(0, n).ToArray();
        var g = new Generator(seed);
        for (int i = n - 1; i > 0; i--) { int j = (int)g.NextInt64(0, i + 1); (order[i], order[j]) = (order[j], order[i]); }
        int train = (int)(n * trainFraction);
        (TrainTokens, TrainLabels) = Build(order[..train], dev);
        (TestTokens, TestLabels) = Build(order[train..], dev);
        TrainPairs = order[..train];
    }

    /// <summary>p.</summary>
    public int Modulus { get; }
    /// <summary>The id of "=" (p); the vocabulary holds p + 1 tokens.</summary>
    public int EqualsToken => Modulus;
    /// <summary>Vocabulary size p + 1.</summary>
    public int Vocab => Modulus + 1;
    /// <summary>Training inputs [n_train, 3].</summary>
    public Tensor TrainTokens { get; }
    /// <summary>Training labels [n_train].</summary>
    public Tensor TrainLabels { get; }
    /// <summary>Held-out inputs [n_test, 3].</summary>
    public Tensor TestTokens { get; }
    /// <summary>Held-out labels [n_test].</summary>
    public Tensor TestLabels { get; }
    /// <summary>Training pairs as indices a * p + b.</summary>
    public IReadOnlyList<int> TrainPairs { get; }

    /// <summary>Every pair in order a * p + b: inputs [p², 3] and labels [p²] (for mechanism analyses over the full grid).</summary>
    public (Tensor Tokens, Tensor Labels) AllPairs(Device? device = null) => Build(Enumerable.Range(0, Modulus * Modulus).ToArray(), device ?? Device.Cpu);

    /// <summary>Cross-entropy of the last position's logits [batch, pos, vocab] against <paramref name="labels"/> [batch]
    /// (only the first p logits are classes, as the "=" token is never an answer).</summary>
    public Tensor Loss(Tensor logits, Tensor labels)
    {
        var last = logits.Select(1, logits.Shape[1] - 1).Narrow(1, 0, Modulus); // [batch, p]
        var logp = last.LogSoftmax(-1);
        return -logp.Gather(1, labels.To(DType.Int64).To(logits.Device).Unsqueeze(-1)).Mean();
    }

    /// <summary>Fraction of rows whose last-position argmax (over the p classes) equals the label.</summary>
    public double Accuracy(Tensor logits, Tensor labels)
    {
        var predicted = logits.Select(1, logits.Shape[1] - 1).Narrow(1, 0, Modulus).ArgMax(-1).To(Device.Cpu).ToArray<long>();
        var truth = labels.To(Device.Cpu).To(DType.Int64).ToArray<long>();
        return predicted.Zip(truth).Count(x => x.First == x.Second) / (double)truth.Length;
    }

    private (Tensor, Tensor) Build(int[] pairs, Device device)
    {
        int p = Modulus;
        var tokens = new long[pairs.Length * 3];
        var labels = new long[pairs.Length];
        for (int i = 0; i < pairs.Length; i++)
        {
            int a = pairs[i] / p, b = pairs[i] % p;
            (tokens[3 * i], tokens[3 * i + 1], tokens[3 * i + 2]) = (a, b, p);
            labels[i] = (a + b) % p;
        }
        return (Tensor.FromArray(tokens, pairs.Length, 3).To(device), Tensor.FromArray(labels, pairs.Length).To(device));
    }
}
