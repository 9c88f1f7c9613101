namespace MechInterp.Patching;

/// <summary>An axis a sweep iterates over: each index of it becomes its own patched run (TransformerLens's
/// index_axis_names without the layer, which every named sweep iterates first).</summary>
public enum PatchAxis
{
    /// <summary>Token position: dim 1 of [batch, pos, ...] activations. Not valid for patterns and scores (use
    /// <see cref="DestPos"/> and <see cref="SrcPos"/>).</summary>
    Pos,
    /// <summary>Attention head: dim 2 of [batch, pos, head, d_head] (q, k, v, z, result), dim 1 of [batch, head, dest,
    /// src] (pattern, attn_scores).</summary>
    Head,
    /// <summary>Query (destination) position of a pattern or attention scores [batch, head, dest, src]: dim 2.</summary>
    DestPos,
    /// <summary>Key (source) position of a pattern or attention scores [batch, head, dest, src]: dim 3.</summary>
    SrcPos,
    /// <summary>The last dimension (an MLP neuron of hook_pre/hook_post, a channel of the residual stream).</summary>
    Neuron,
}

/// <summary>Where each <see cref="PatchAxis"/> lives in a given hook point's activation.</summary>
public static class PatchAxes
{
    /// <summary>True for hooks shaped [batch, head, dest, src].</summary>
    public static bool IsPatternLike(string hook) =>
        hook.EndsWith("hook_pattern", StringComparison.Ordinal) || hook.EndsWith("hook_attn_scores", StringComparison.Ordinal);

    /// <summary>The dimension of <paramref name="axis"/> in the activation of <paramref name="hook"/> (of rank
    /// <paramref name="rank"/>); throws <see cref="ArgumentException"/> when the hook has no such axis.</summary>
    public static int Dim(string hook, int rank, PatchAxis axis)
    {
        bool pattern = IsPatternLike(hook);
        int dim = axis switch
        {
            PatchAxis.Pos when !pattern => 1,
            PatchAxis.Head when pattern => 1,
            PatchAxis.Head when rank == 4 => 2,
            PatchAxis.DestPos when pattern => 2,
            PatchAxis.SrcPos when pattern => 3,
            PatchAxis.Neuron when !pattern => rank - 1,
            _ => -1,
        };
        if (dim < 1 || dim >= rank)
            throw new ArgumentException($"hook '{hook}' (rank {rank}) has no {axis} axis: " + (pattern
                ? "patterns and scores [batch, head, dest, src] take Head, DestPos and SrcPos"
                : "[batch, pos, d] activations take Pos and Neuron; [batch, pos, head, d_head] ones take Pos, Head and Neuron"));
        return dim;
    }
}
