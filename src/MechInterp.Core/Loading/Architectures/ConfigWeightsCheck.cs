namespace MechInterp.Loading.Architectures;

/// <summary>
/// Checks that a config.json and the weights beside it describe the same model before anything is allocated, and
/// words conversion failures in terms of both: a config whose sizes disagree with the checkpoint otherwise fails deep
/// in a reshape ("cannot reshape [65] to [4, 16]"), or allocates a model far larger than its weights.
/// </summary>
internal static class ConfigWeightsCheck
{
    /// <summary>The config's sizes as they appear in messages.</summary>
    public static string Describe(HookedTransformerConfig c) =>
        $"n_layers {c.NLayers}, d_model {c.DModel}, n_heads {c.NHeads}, d_head {c.DHead}, n_kv_heads {c.KvHeads}, d_mlp {c.DMlp}, d_vocab {c.DVocab}, n_ctx {c.NCtx}";

    /// <summary>Parameters a model of <paramref name="c"/> holds (an upper estimate for the checks below).</summary>
    public static double ParameterCount(HookedTransformerConfig c)
    {
        double d = c.DModel, attn = 2.0 * d * c.NHeads * c.DHead + 2.0 * d * c.KvHeads * c.DHead;
        double mlp = c.AttnOnly ? 0 : (c.GatedMlp ? 3.0 : 2.0) * d * Math.Max(c.DMlp, 0);
        return c.NLayers * (attn + mlp + 8 * d) + (double)c.DVocab * d + (double)c.VocabOut * d + (double)c.NCtx * d;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the config's fields when a model of
    /// <paramref name="config"/> would hold far more parameters than the checkpoint has elements (a wrong config.json
    /// beside the weights), before any of it is allocated.</summary>
    public static void RequirePlausible(HookedTransformerConfig config, CheckpointFiles files, string configPath)
    {
        double stored = 0;
        foreach (var name in files.Names) stored += files.GetInfo(name).NumElements;
        double needed = ParameterCount(config);
        // Tied embeddings, fused q|k|v and skipped buffers make the two differ somewhat; a factor of 4 cannot be that.
        if (needed > 4 * stored + 1_000_000)
            throw new InvalidDataException(
                $"'{configPath}' describes a model of about {needed:N0} parameters ({Describe(config)}) but the checkpoint in '{files.Directory}' holds {stored:N0} elements: config.json does not belong to these weights (re-download it, or fix the size fields)");
    }

    /// <summary>The exception for a conversion that failed after <paramref name="lastConverted"/>.</summary>
    public static InvalidDataException ConversionFailed(Exception inner, string? lastConverted, string configSummary) => new(
        $"converting the checkpoint's weights failed {(lastConverted is null ? "at the first tensor" : $"after '{lastConverted}'")} ({inner.Message}): the tensor shapes do not match config.json ({configSummary}); check that config.json belongs to these weights",
        inner);
}
