namespace MechInterp.Distributed.Jobs;

/// <summary>
/// Token ids [batch, pos] as they cross the wire: a flat row-major <see cref="Ids"/> array and its two sizes. A tensor
/// does not travel (it is a handle into one process's backend); its numbers do.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record TokenBatch
{
    /// <summary>Creates a batch from flat row-major ids.</summary>
    /// <param name="ids">batch × positions token ids, row-major.</param>
    /// <param name="batch">Prompts.</param>
    /// <param name="positions">Tokens per prompt.</param>
    /// <exception cref="ArgumentException">The sizes are not positive or do not multiply to the number of ids.</exception>
    public TokenBatch(long[] ids, int batch, int positions)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (batch <= 0 || positions <= 0 || (long)batch * positions != ids.Length)
            throw new ArgumentException($"a token batch of {ids.Length} ids cannot be [{batch}, {positions}]: give batch × positions ids, row-major, both sizes positive", nameof(ids));
        Ids = ids;
        Batch = batch;
        Positions = positions;
    }

    /// <summary>batch × positions token ids, row-major.</summary>
    [Id(0)] public long[] Ids { get; }

    /// <summary>Prompts.</summary>
    [Id(1)] public int Batch { get; }

    /// <summary>Tokens per prompt.</summary>
    [Id(2)] public int Positions { get; }

    /// <summary>The ids of a [batch, pos] (or [pos]) integer tensor.</summary>
    /// <param name="tokens">Token ids, rank 1 or 2.</param>
    /// <exception cref="ArgumentException">The tensor is not rank 1 or 2.</exception>
    public static TokenBatch From(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Rank is not (1 or 2))
            throw new ArgumentException($"token ids must be [batch, pos] or [pos], got [{string.Join(", ", tokens.Shape)}]", nameof(tokens));
        long batch = tokens.Rank == 2 ? tokens.Shape[0] : 1, pos = tokens.Shape[^1];
        return new TokenBatch(tokens.To(Device.Cpu).ToArray<long>(), checked((int)batch), checked((int)pos));
    }

    /// <summary>The ids as an Int64 tensor [batch, pos] on <paramref name="device"/>.</summary>
    /// <param name="device">Where the tensor lives (the CPU when null).</param>
    public Tensor ToTensor(Device? device = null) => Tensor.FromArray(Ids, [Batch, Positions], DType.Int64, device ?? Device.Cpu);
}
