namespace MechInterp.Saes;

/// <summary>How <see cref="ActivationStore"/> turns a token dataset into training batches of activations.</summary>
public sealed record ActivationStoreOptions
{
    /// <summary>Rows (token positions) per training batch.</summary>
    public int BatchTokens { get; init; } = 4096;

    /// <summary>Sequences per model pass.</summary>
    public int SequencesPerPass { get; init; } = 32;

    /// <summary>Positions kept per sequence from the start (null: the whole sequence); SAELens's context_size.</summary>
    public int? ContextSize { get; init; }

    /// <summary>Leading positions of each sequence left out (1 drops the BOS position, whose activations are outliers).</summary>
    public int ExcludeFirstPositions { get; init; }

    /// <summary>Token ids whose positions are left out (BOS, EOS, padding).</summary>
    public IReadOnlyList<long> ExcludeTokenIds { get; init; } = [];

    /// <summary>Batches' worth of rows gathered and shuffled together before batches are cut (0: no shuffling).</summary>
    public int ShuffleBufferBatches { get; init; } = 8;

    /// <summary>Seed of the shuffling.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Where batches are put (null: the model's device).</summary>
    public Device? Device { get; init; }
}
