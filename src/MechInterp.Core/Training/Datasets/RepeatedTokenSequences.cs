namespace MechInterp.Training.Datasets;

/// <summary>How a <see cref="RepeatedTokenSequences"/> sequence continues after its random segment.</summary>
public enum RepeatLayout
{
    /// <summary>[BOS] + A + A + random filler: one repeat of the segment, then fresh random tokens to the end (the layout
    /// on which a 2-layer attention-only model forms the previous-token → induction circuit).</summary>
    RepeatOnce,
    /// <summary>[BOS] + A + A + A + ...: the segment repeated periodically to the end (its length is the period).</summary>
    Periodic,
}

/// <summary>One batch of repeated-token sequences with the bookkeeping needed to score it.</summary>
/// <param name="Tokens">Token ids [batch, pos] (int64).</param>
/// <param name="SegmentLengths">Each row's segment length |A|.</param>
/// <param name="RepeatMask">[batch, pos - 1] with 1 where the current token repeats an earlier one and the next token
/// repeats what followed it (predictable by induction), 0 elsewhere: it lines up with a per-token next-token loss.</param>
public sealed record RepeatedTokenBatch(Tensor Tokens, int[] SegmentLengths, Tensor RepeatMask)
{
    /// <summary>Mean of a per-token loss [batch, pos - 1] over the repeat positions.</summary>
    public double MeanOverRepeats(Tensor perTokenLoss) => MaskedMean(perTokenLoss, RepeatMask);

    /// <summary>Mean of a per-token loss [batch, pos - 1] over the first occurrence of each segment (positions whose
    /// next token is fresh and random).</summary>
    public double MeanOverFirstSegment(Tensor perTokenLoss)
    {
        long b = Tokens.Shape[0], p = Tokens.Shape[1] - 1;
        var mask = new float[b * p];
        for (int i = 0; i < b; i++)
            for (int t = 0; t < SegmentLengths[i]; t++) mask[i * p + t] = 1; // predicting A[0..|A|-1] from BOS, A[..]
        return MaskedMean(perTokenLoss, Tensor.FromArray(mask, b, p));
    }

    private static double MaskedMean(Tensor perToken, Tensor mask)
    {
        if (perToken.Rank != 2 || perToken.Shape[0] != mask.Shape[0] || perToken.Shape[1] != mask.Shape[1])
            throw new ArgumentException($"the per-token loss must be [batch, pos - 1] = {Tensor.ShapeString(mask.Shape)}, got {Tensor.ShapeString(perToken.Shape)}: run the forward with LossPerToken = true");
        var l = perToken.To(Device.Cpu).To(DType.Float64).ToArray<double>();
        var m = mask.To(Device.Cpu).To(DType.Float64).ToArray<double>();
        double sum = 0, count = 0;
        for (int i = 0; i < l.Length; i++) { sum += l[i] * m[i]; count += m[i]; }
        return count == 0 ? double.NaN : sum / count;
    }
}

/// <summary>
/// Sequences of uniformly random tokens in which one random segment A repeats: the standard dataset on which
/// induction heads form (Olsson et al. 2022). Each row is [BOS] + A + A + filler (<see cref="RepeatLayout.RepeatOnce"/>)
/// or [BOS] + A + A + ... (<see cref="RepeatLayout.Periodic"/>), with |A| uniform in
/// [<see cref="MinSegment"/>, <see cref="MaxSegment"/>] and tokens uniform in 1..vocab-1 (0 is BOS).
/// </summary>
public sealed class RepeatedTokenSequences : IBatchSource
{
    /// <summary>A dataset of rows of <paramref name="sequenceLength"/> tokens over ids 0..<paramref name="vocab"/>-1
    /// (0 = BOS), segment lengths in [<paramref name="minSegment"/>, <paramref name="maxSegment"/>].</summary>
    public RepeatedTokenSequences(int vocab, int sequenceLength, int minSegment, int maxSegment, int batchSize,
        RepeatLayout layout = RepeatLayout.RepeatOnce, IEnumerable<int>? heldOutSegments = null)
    {
        if (vocab < 3) throw new ArgumentOutOfRangeException(nameof(vocab), vocab, "vocab must be at least 3 (BOS and two tokens)");
        if (minSegment < 1 || maxSegment < minSegment)
            throw new ArgumentException($"segment lengths need 1 <= minSegment <= maxSegment, got {minSegment}..{maxSegment}");
        if (1 + 2 * maxSegment > sequenceLength)
            throw new ArgumentException($"sequenceLength {sequenceLength} cannot hold BOS and two copies of a {maxSegment}-token segment: use at least {1 + 2 * maxSegment}", nameof(sequenceLength));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive");
        (Vocab, SequenceLength, MinSegment, MaxSegment, BatchSize, Layout) = (vocab, sequenceLength, minSegment, maxSegment, batchSize, layout);
        HeldOutSegments = heldOutSegments?.ToHashSet() ?? [];
        _trainLengths = [.. Enumerable.Range(minSegment, maxSegment - minSegment + 1).Where(l => !HeldOutSegments.Contains(l))];
        if (_trainLengths.Length == 0) throw new ArgumentException("heldOutSegments removes every segment length: keep at least one for training", nameof(heldOutSegments));
    }

    /// <summary>Token ids 0..Vocab-1 (0 = BOS).</summary>
    public int Vocab { get; }
    /// <summary>Tokens per row, BOS included.</summary>
    public int SequenceLength { get; }
    /// <summary>Shortest segment.</summary>
    public int MinSegment { get; }
    /// <summary>Longest segment.</summary>
    public int MaxSegment { get; }
    /// <summary>Rows per training batch.</summary>
    public int BatchSize { get; }
    /// <summary>What follows the first repeat.</summary>
    public RepeatLayout Layout { get; }

    /// <summary>Segment lengths never drawn by <see cref="NextBatch"/> (ask for them with <see cref="Sample"/>'s
    /// segmentLength to test generalisation to unseen lengths).</summary>
    public IReadOnlySet<int> HeldOutSegments { get; }

    private readonly int[] _trainLengths;

    /// <summary>The BOS id.</summary>
    public const int Bos = 0;

    /// <inheritdoc />
    public Tensor NextBatch(Generator generator, Device device) => SampleCore(BatchSize, generator, device, null, trainingLengthsOnly: true).Tokens;

    /// <summary>Draws <paramref name="rows"/> sequences; <paramref name="segmentLength"/> fixes |A| (it may lie outside
    /// the training range, to test generalisation to unseen lengths).</summary>
    public RepeatedTokenBatch Sample(int rows, Generator generator, Device? device = null, int? segmentLength = null) =>
        SampleCore(rows, generator, device, segmentLength, trainingLengthsOnly: false);

    private RepeatedTokenBatch SampleCore(int rows, Generator generator, Device? device, int? segmentLength, bool trainingLengthsOnly)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (segmentLength is { } fixedLength && (fixedLength < 1 || 1 + 2 * fixedLength > SequenceLength))
            throw new ArgumentOutOfRangeException(nameof(segmentLength), fixedLength, $"a segment must fit twice after BOS in {SequenceLength} tokens (1..{(SequenceLength - 1) / 2})");
        int n = SequenceLength;
        var ids = new long[rows * n];
        var mask = new float[rows * (n - 1)];
        var lengths = new int[rows];
        for (int b = 0; b < rows; b++)
        {
            int h = lengths[b] = segmentLength ?? (trainingLengthsOnly
                ? _trainLengths[generator.NextInt64(0, _trainLengths.Length)]
                : (int)generator.NextInt64(MinSegment, MaxSegment + 1));
            var segment = new long[h];
            for (int i = 0; i < h; i++) segment[i] = generator.NextInt64(1, Vocab);
            int repeatEnd = Layout == RepeatLayout.RepeatOnce ? 1 + 2 * h : n;
            ids[b * n] = Bos;
            for (int t = 1; t < n; t++)
                ids[b * n + t] = t < repeatEnd ? segment[(t - 1) % h] : generator.NextInt64(1, Vocab);
            // Position t predicts token t + 1. The second copy starts at 1 + h; its first token follows A's last, which
            // occurred only once, so induction predicts from the second copy's first token on: t in [1 + h, repeatEnd - 2].
            for (int t = 1 + h; t < repeatEnd - 1; t++) mask[b * (n - 1) + t] = 1;
        }
        var dev = device ?? Device.Cpu;
        return new RepeatedTokenBatch(Tensor.FromArray(ids, rows, n).To(dev), lengths, Tensor.FromArray(mask, rows, n - 1));
    }
}
