namespace MechInterp.Patching;

/// <summary>How a patching sweep runs (not what it computes: every setting gives the same numbers to float rounding).</summary>
public sealed record PatchingOptions
{
    /// <summary>Default options.</summary>
    public static PatchingOptions Default { get; } = new();

    /// <summary>At most this many tokens (cells × prompts × positions) go through one batched forward pass. Patched cells
    /// of one hook run as copies of the base batch in one pass; the logits of a pass take tokens × d_vocab floats, so
    /// lower this for big vocabularies on small memory. 1 cell per pass when it is smaller than one base run.</summary>
    public int MaxTokensPerForward { get; init; } = 2048;

    /// <summary>Start each patched pass at the patched layer from the base run's cached residual stream
    /// (<see cref="ForwardOptions.StartAtLayer"/>): layers before it cannot change. On by default for
    /// <see cref="HookedTransformer"/>; other models always run from the tokens.</summary>
    public bool StartAtPatchedLayer { get; init; } = true;

    /// <summary>The positions the metric reads, when it declares them (e.g. <c>[^1]</c> for a last-position logit
    /// difference): the unembedding then runs only there and the metric receives logits [batch, these positions, d_vocab]
    /// in this order, so a metric written as <c>logits[.., ^1, ..]</c> still reads the last one. Null: every position.
    /// The final norm then runs a second time on those positions (its hooks see [rows, n, d_model]).</summary>
    public IReadOnlyList<Index>? MetricPositions { get; init; }

    /// <summary>Give a cell the base run's metric without a forward pass when its patch writes exactly the values already
    /// there (positions before the first token that differs, a head already zero, the run's own cache): exact, and in a
    /// typical sweep a large share of the cells. Off: every cell runs (to time or test the patched passes themselves).</summary>
    public bool SkipUnchangedCells { get; init; } = true;

    /// <summary>Reports cells done after each forward pass.</summary>
    public IProgress<PatchingProgress>? Progress { get; init; }
}

/// <summary>Progress of a sweep: <paramref name="Done"/> of <paramref name="Total"/> cells, the last at <paramref name="Hook"/>.</summary>
/// <param name="Done">Cells whose metric is known.</param>
/// <param name="Total">Cells in the sweep.</param>
/// <param name="Hook">Hook point of the last finished pass.</param>
public readonly record struct PatchingProgress(int Done, int Total, string Hook);
