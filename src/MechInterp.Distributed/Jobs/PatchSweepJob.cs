using MechInterp.Patching;

namespace MechInterp.Distributed.Jobs;

/// <summary>
/// A named activation-patching sweep (<see cref="ActivationPatching.Generic"/>) run on a cluster: patch
/// <see cref="Activation"/> of the source run into the base run at every layer and every index along <see cref="Axes"/>.
/// Its cells are numbered as the single-process sweep orders them (layer first, then the axes row-major, last fastest);
/// a unit is a contiguous range of <see cref="CellsPerUnit"/> of them (a range of layer × position × head).
/// </summary>
/// <remarks>Each worker runs the source tokens once to get the source cache (activations never cross the wire, only
/// token ids), builds the same cells as <see cref="ActivationPatching.Generic"/> and runs its range through
/// <see cref="ActivationPatching.Run"/>.</remarks>
[GenerateSerializer]
public sealed record PatchSweepJob : DistributedJob
{
    /// <summary>Token ids of the run that is patched (corrupted, for denoising).</summary>
    [Id(0)] public required TokenBatch BaseTokens { get; init; }

    /// <summary>Token ids of the run whose activations are written in (clean, for denoising); the same shape as
    /// <see cref="BaseTokens"/>.</summary>
    [Id(1)] public required TokenBatch SourceTokens { get; init; }

    /// <summary>Short activation name ("resid_pre", "attn_out", "z", "pattern", "post", ...; see <see cref="ActName.Get"/>).</summary>
    [Id(2)] public required string Activation { get; init; }

    /// <summary>The axes iterated, in result order (e.g. [Pos, Head] → [n_layers, pos, n_heads]).</summary>
    [Id(3)] public required PatchAxis[] Axes { get; init; }

    /// <summary>The metric of each patched run, as data.</summary>
    [Id(4)] public required MetricSpec Metric { get; init; }

    /// <summary>Cells per unit; 0 (the default) = the cells of one layer.</summary>
    [Id(5)] public int CellsPerUnit { get; init; }

    /// <summary><see cref="PatchingOptions.MaxTokensPerForward"/> on each worker.</summary>
    [Id(6)] public int MaxTokensPerForward { get; init; } = PatchingOptions.Default.MaxTokensPerForward;

    /// <summary><see cref="PatchingOptions.StartAtPatchedLayer"/> on each worker.</summary>
    [Id(7)] public bool StartAtPatchedLayer { get; init; } = true;

    /// <summary><see cref="PatchingOptions.SkipUnchangedCells"/> on each worker.</summary>
    [Id(8)] public bool SkipUnchangedCells { get; init; } = true;

    /// <summary><see cref="PatchingOptions.MetricPositions"/>: positions 0, 1, ... from the start and −1, −2, ... from
    /// the end; null = every position.</summary>
    [Id(9)] public int[]? MetricPositions { get; init; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        ArgumentNullException.ThrowIfNull(BaseTokens, nameof(BaseTokens));
        ArgumentNullException.ThrowIfNull(SourceTokens, nameof(SourceTokens));
        ArgumentNullException.ThrowIfNull(Metric, nameof(Metric));
        ArgumentException.ThrowIfNullOrWhiteSpace(Activation, nameof(Activation));
        if (Axes is null || Axes.Length == 0) throw new ArgumentException("Axes is empty: name the axes to sweep, e.g. [PatchAxis.Pos]", nameof(Axes));
        if (BaseTokens.Batch != SourceTokens.Batch || BaseTokens.Positions != SourceTokens.Positions)
            throw new ArgumentException($"SourceTokens are [{SourceTokens.Batch}, {SourceTokens.Positions}] but BaseTokens [{BaseTokens.Batch}, {BaseTokens.Positions}]: patching needs prompts of one shape", nameof(SourceTokens));
        if (CellsPerUnit < 0) throw new ArgumentException($"CellsPerUnit is {CellsPerUnit}: give a positive count, or 0 for one layer per unit", nameof(CellsPerUnit));
        if (MaxTokensPerForward <= 0) throw new ArgumentException($"MaxTokensPerForward is {MaxTokensPerForward}: it must be positive", nameof(MaxTokensPerForward));
    }

    internal override bool NeedsPlan => true;

    /// <summary>Ranges of cells; the plan's shape is [n_layers, axis sizes...].</summary>
    internal override List<(long First, int Count)> Split(long[]? shape)
    {
        if (shape is null || shape.Length == 0) throw new InvalidOperationException("a sweep is split by the shape its plan found");
        long cells = shape.Aggregate(1L, (n, d) => n * d);
        long perLayer = Math.Max(1, cells / shape[0]);
        return Ranges(cells, CellsPerUnit > 0 ? CellsPerUnit : perLayer);
    }

    /// <summary>The patching options each worker runs its cells with.</summary>
    internal PatchingOptions Options() => new()
    {
        MaxTokensPerForward = MaxTokensPerForward,
        StartAtPatchedLayer = StartAtPatchedLayer,
        SkipUnchangedCells = SkipUnchangedCells,
        MetricPositions = MetricPositions?.Select(p => p < 0 ? ^(-p) : (Index)p).ToArray(),
    };
}
