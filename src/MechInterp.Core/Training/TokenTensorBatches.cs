namespace MechInterp.Training;

/// <summary>
/// Batches cut from a token tensor: either rows of a [rows, pos] tensor (each batch draws <see cref="BatchSize"/> rows
/// at random, with replacement), or windows of <see cref="SequenceLength"/> tokens at random offsets of a flat [tokens]
/// stream (nanoGPT's get_batch). The tensor is read once into host memory.
/// </summary>
public sealed class TokenTensorBatches : IBatchSource
{
    private readonly long[] _tokens;
    private readonly long _rows, _rowLength;

    /// <summary>Batches from <paramref name="tokens"/>: [rows, pos] (whole rows; <paramref name="sequenceLength"/> must
    /// be null or the row length) or [tokens] (windows of <paramref name="sequenceLength"/>, required).</summary>
    public TokenTensorBatches(Tensor tokens, int batchSize, int? sequenceLength = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be positive");
        _tokens = tokens.To(Device.Cpu).To(DType.Int64).Contiguous().ToArray<long>();
        BatchSize = batchSize;
        if (tokens.Rank == 2)
        {
            (_rows, _rowLength) = (tokens.Shape[0], tokens.Shape[1]);
            if (sequenceLength is { } s && s != _rowLength)
                throw new ArgumentException($"sequenceLength {s} differs from the row length {_rowLength} of the [rows, pos] token tensor: pass null, or a flat [tokens] stream to cut windows", nameof(sequenceLength));
            SequenceLength = (int)_rowLength;
        }
        else if (tokens.Rank == 1)
        {
            if (sequenceLength is not { } s || s < 2)
                throw new ArgumentException("a flat [tokens] stream needs sequenceLength >= 2 (the window each batch row takes)", nameof(sequenceLength));
            if (_tokens.Length < s)
                throw new ArgumentException($"the token stream has {_tokens.Length} tokens, fewer than one window of {s}", nameof(tokens));
            SequenceLength = s;
        }
        else throw new ArgumentException($"tokens must be [rows, pos] or a flat [tokens] stream, got {Tensor.ShapeString(tokens.Shape)}", nameof(tokens));
        if (_tokens.Length == 0) throw new ArgumentException("the token tensor is empty", nameof(tokens));
    }

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Tokens per row.</summary>
    public int SequenceLength { get; }

    /// <summary>Reads a file of little-endian token ids as a flat stream: <paramref name="bytesPerToken"/> 2 for unsigned
    /// 16-bit ids (nanoGPT's train.bin), 4 for int32, 8 for int64.</summary>
    public static TokenTensorBatches FromFile(string path, int bytesPerToken, int batchSize, int sequenceLength)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"token file '{path}' does not exist", path);
        var bytes = File.ReadAllBytes(path);
        if (bytesPerToken is not (2 or 4 or 8))
            throw new ArgumentOutOfRangeException(nameof(bytesPerToken), bytesPerToken, "bytesPerToken must be 2 (uint16 ids), 4 (int32) or 8 (int64)");
        if (bytes.Length % bytesPerToken != 0)
            throw new InvalidDataException($"token file '{path}' has {bytes.Length} bytes, not a multiple of {bytesPerToken}: check bytesPerToken");
        var ids = new long[bytes.Length / bytesPerToken];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = bytesPerToken switch
            {
                2 => BitConverter.ToUInt16(bytes, 2 * i),
                4 => BitConverter.ToInt32(bytes, 4 * i),
                _ => BitConverter.ToInt64(bytes, 8 * i),
            };
        return new TokenTensorBatches(Tensor.FromArray(ids, ids.Length), batchSize, sequenceLength);
    }

    /// <inheritdoc />
    public Tensor NextBatch(Generator generator, Device device)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var batch = new long[BatchSize * SequenceLength];
        for (int b = 0; b < BatchSize; b++)
        {
            long start = _rows > 0
                ? generator.NextInt64(0, _rows) * _rowLength
                : generator.NextInt64(0, _tokens.Length - SequenceLength + 1);
            Array.Copy(_tokens, start, batch, b * SequenceLength, SequenceLength);
        }
        return Tensor.FromArray(batch, BatchSize, SequenceLength).To(device); // [batch, pos]
    }
}
