namespace MechInterp.Distributed.Jobs;

/// <summary>
/// An activation harvest run on a cluster: the activations at <see cref="Hooks"/> over a token dataset, cut into units
/// of <see cref="SequencesPerUnit"/> sequences. Unit u runs <see cref="Saes.ActivationStore"/> over its sequences and writes
/// its batches with <see cref="Saes.ActivationShards.Write"/> to <c>{OutputFolder}/unit_{u:D5}/</c>, a folder every
/// worker must reach (a shared file system). Activations never cross the wire; each unit's result is its batch count.
/// </summary>
/// <remarks>The shard format is the SAE package's own (one safetensors file per batch); the unit only says which
/// sequences and where, so a later shard format changes nothing here.</remarks>
[GenerateSerializer]
public sealed record HarvestJob : DistributedJob
{
    /// <summary>The token dataset [sequences, positions].</summary>
    [Id(0)] public required TokenBatch Tokens { get; init; }

    /// <summary>Full hook names to store (e.g. <c>blocks.1.hook_resid_pre</c>).</summary>
    [Id(1)] public required string[] Hooks { get; init; }

    /// <summary>The folder the units' shard folders go in.</summary>
    [Id(2)] public required string OutputFolder { get; init; }

    /// <summary>Sequences per unit. Default 64.</summary>
    [Id(3)] public int SequencesPerUnit { get; init; } = 64;

    /// <summary><see cref="Saes.ActivationStoreOptions.BatchTokens"/>: rows per shard. Default 4096.</summary>
    [Id(4)] public int BatchTokens { get; init; } = 4096;

    /// <summary><see cref="Saes.ActivationStoreOptions.SequencesPerPass"/>. Default 32.</summary>
    [Id(5)] public int SequencesPerPass { get; init; } = 32;

    /// <summary><see cref="Saes.ActivationStoreOptions.ShuffleBufferBatches"/>; 0 (the default) keeps rows in dataset order.</summary>
    [Id(6)] public int ShuffleBufferBatches { get; init; }

    /// <summary><see cref="Saes.ActivationStoreOptions.ExcludeFirstPositions"/>.</summary>
    [Id(7)] public int ExcludeFirstPositions { get; init; }

    /// <summary><see cref="Saes.ActivationStoreOptions.Seed"/> of each unit's shuffling.</summary>
    [Id(8)] public ulong Seed { get; init; } = 1;

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(Tokens, nameof(Tokens));
        ArgumentException.ThrowIfNullOrWhiteSpace(OutputFolder, nameof(OutputFolder));
        if (Hooks is null || Hooks.Length == 0) throw new ArgumentException("Hooks is empty: name the hook points to store", nameof(Hooks));
        if (SequencesPerUnit <= 0 || BatchTokens <= 0 || SequencesPerPass <= 0)
            throw new ArgumentException($"SequencesPerUnit ({SequencesPerUnit}), BatchTokens ({BatchTokens}) and SequencesPerPass ({SequencesPerPass}) must be positive");
    }

    /// <summary>The folder of unit <paramref name="unit"/>.</summary>
    /// <param name="unit">A unit id.</param>
    public string UnitFolder(int unit) => Path.Combine(OutputFolder, $"unit_{unit:D5}");

    /// <summary>A harvest unit sends back one number: the batches it wrote.</summary>
    internal override int ValuesPerUnit(int items) => 1;

    internal override List<(long First, int Count)> Split(long[]? shape) => Ranges(Tokens.Batch, SequencesPerUnit);

    internal Saes.ActivationStoreOptions StoreOptions() => new()
    {
        BatchTokens = BatchTokens,
        SequencesPerPass = SequencesPerPass,
        ShuffleBufferBatches = ShuffleBufferBatches,
        ExcludeFirstPositions = ExcludeFirstPositions,
        Seed = Seed,
        Device = Device.Cpu,
    };
}
