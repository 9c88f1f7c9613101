namespace MechInterp.Distributed.Jobs;

/// <summary>
/// A job for the cluster: data only (model location, token ids, names, numbers), split by the coordinator into
/// independent units that any worker can run. The kinds are <see cref="PatchSweepJob"/> and <see cref="HarvestJob"/>.
/// </summary>
[GenerateSerializer]
public abstract record DistributedJob
{
    /// <summary>The model every worker loads: a local folder (config.json + weights) or a Hugging Face model id, as
    /// <see cref="HookedTransformer.FromPretrained(string, LoadOptions?)"/> takes it. Each worker must reach it (a shared
    /// or copied folder, or a warm Hugging Face cache); weights never cross the wire.</summary>
    [Id(0)] public required string Model { get; init; }

    /// <summary><see cref="LoadOptions.FoldLayerNorm"/> on every worker (load the model as the single-process run did).</summary>
    [Id(1)] public bool FoldLayerNorm { get; init; }

    /// <summary><see cref="LoadOptions.CenterWritingWeights"/> on every worker.</summary>
    [Id(2)] public bool CenterWritingWeights { get; init; }

    /// <summary><see cref="LoadOptions.CenterUnembed"/> on every worker.</summary>
    [Id(3)] public bool CenterUnembed { get; init; }

    /// <summary><see cref="LoadOptions.FoldValueBiases"/> on every worker.</summary>
    [Id(4)] public bool FoldValueBiases { get; init; }

    /// <summary>How a worker loads <see cref="Model"/> onto <paramref name="device"/>.</summary>
    internal LoadOptions LoadOptions(Device device) => new()
    {
        Device = device,
        FoldLayerNorm = FoldLayerNorm,
        CenterWritingWeights = CenterWritingWeights,
        CenterUnembed = CenterUnembed,
        FoldValueBiases = FoldValueBiases,
    };

    /// <summary>Checks the job before it is submitted.</summary>
    /// <exception cref="ArgumentException">A field is out of range; the message names it.</exception>
    public virtual void Validate() => ArgumentException.ThrowIfNullOrWhiteSpace(Model, nameof(Model));

    /// <summary>True when a worker must see the model before the units are known (the plan unit).</summary>
    internal virtual bool NeedsPlan => false;

    /// <summary>The units: ranges of items (cells, sequences) in result order, given the plan's result shape (null
    /// for jobs without a plan).</summary>
    internal abstract List<(long First, int Count)> Split(long[]? shape);

    /// <summary>Numbers a unit of <paramref name="items"/> items sends back.</summary>
    internal virtual int ValuesPerUnit(int items) => items;

    /// <summary>Contiguous ranges of at most <paramref name="perUnit"/> of <paramref name="items"/> items.</summary>
    internal static List<(long First, int Count)> Ranges(long items, long perUnit)
    {
        var units = new List<(long, int)>();
        for (long first = 0; first < items; first += perUnit) units.Add((first, (int)Math.Min(perUnit, items - first)));
        return units;
    }
}
