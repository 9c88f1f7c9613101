using MechInterp.Patching;

namespace MechInterp.Attribution;

// AtP* (Kramár et al. 2024), fix 1: queries and keys act on the metric through a softmax, whose first-order expansion
// fails exactly where attention saturates (a patched key that would win the softmax looks like it does nothing). So for
// query and key sites the change of the attention pattern is computed exactly (the scores recomputed with the patched
// queries or keys, one softmax per row) and only the rest of the model, from the pattern on, is linearised:
//   estimate(site) = Σ ∂M/∂pattern · (softmax(scores + Δscores(site)) − pattern).
public static partial class AttributionPatching
{
    /// <summary>AtP* of each head's queries at every position → [n_layers, n_heads]: the pattern recomputed exactly
    /// with the source queries, the rest to first order.</summary>
    /// <inheritdoc cref="ResidPre" path="/param"/>
    /// <exception cref="NotSupportedException">The model soft-caps its attention scores (the pattern is then not a
    /// softmax of q·k).</exception>
    public static Tensor AttnHeadQAllPosStar(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        QueryKeyStar(model, sourceTokens, baseTokens, metric, keys: false, byPosition: false);

    /// <summary>AtP* of each head's queries at each position → [n_layers, pos, n_heads].</summary>
    /// <inheritdoc cref="AttnHeadQAllPosStar"/>
    public static Tensor AttnHeadQByPosStar(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        QueryKeyStar(model, sourceTokens, baseTokens, metric, keys: false, byPosition: true);

    /// <summary>AtP* of each key head's keys at every position → [n_layers, n_key_value_heads].</summary>
    /// <inheritdoc cref="AttnHeadQAllPosStar"/>
    public static Tensor AttnHeadKAllPosStar(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        QueryKeyStar(model, sourceTokens, baseTokens, metric, keys: true, byPosition: false);

    /// <summary>AtP* of each key head's keys at each position → [n_layers, pos, n_key_value_heads] (one softmax
    /// recomputation per key position).</summary>
    /// <inheritdoc cref="AttnHeadQAllPosStar"/>
    public static Tensor AttnHeadKByPosStar(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric) =>
        QueryKeyStar(model, sourceTokens, baseTokens, metric, keys: true, byPosition: true);

    private static Tensor QueryKeyStar(IHookedModel model, Tensor sourceTokens, Tensor baseTokens, Func<Tensor, Tensor> metric, bool keys, bool byPosition)
    {
        ArgumentNullException.ThrowIfNull(model);
        var cfg = model.Config;
        if (cfg.AttnScoresSoftCap > 0)
            throw new NotSupportedException($"AtP*'s query/key fix recomputes softmax(q·k / scale), but this model soft-caps its scores (cap {cfg.AttnScoresSoftCap}): use the plain AttnHeadQ/K estimates");
        using var scope = Tensor.Scope();
        int layers = cfg.NLayers;
        // Rotary models score rotated queries and keys; rotation is per position and linear, so the source's rotated
        // vectors are exactly what a patched pre-rotary q or k becomes.
        string QName(int l) => model.HookDict.ContainsKey($"blocks.{l}.attn.hook_rot_q") ? $"blocks.{l}.attn.hook_rot_q" : ActName.Q(l);
        string KName(int l) => model.HookDict.ContainsKey($"blocks.{l}.attn.hook_rot_k") ? $"blocks.{l}.attn.hook_rot_k" : ActName.K(l);
        var patterns = Enumerable.Range(0, layers).Select(ActName.Pattern).ToArray();
        var (grads, _) = Gradients(model, baseTokens, metric, patterns);
        try
        {
            var names = Enumerable.Range(0, layers).SelectMany(l => new[] { QName(l), KName(l), ActName.AttnScores(l), ActName.Pattern(l) }).ToHashSet(StringComparer.Ordinal);
            using var baseRun = Ablation.CacheOf(model, baseTokens, names.Contains);
            using var sourceRun = Ablation.CacheOf(model, sourceTokens, names.Contains);
            var perLayer = new List<Tensor>(layers);
            for (int l = 0; l < layers; l++)
            {
                var q = baseRun[QName(l)]; // [batch, pos, n_heads, d_head]
                var k = baseRun[KName(l)]; // [batch, pos, n_kv_heads, d_head]
                var sourceSide = sourceRun[keys ? KName(l) : QName(l)];
                if (!sourceSide.Shape.SequenceEqual((keys ? k : q).Shape))
                    throw new ArgumentException($"the source and base runs differ in shape at layer {l}: AtP* needs prompts of the same batch size and length", nameof(sourceTokens));
                var delta = sourceSide - (keys ? k : q); // [batch, pos, heads of the patched side, d_head]
                var estimate = LayerStar(baseRun[ActName.AttnScores(l)], baseRun[ActName.Pattern(l)], grads[patterns[l]], q, k, delta,
                    cfg.EffectiveAttnScale, keys, byPosition); // [heads] or [pos, heads]
                perLayer.Add(estimate);
            }
            return Tensor.Stack(perLayer).To(DType.Float32).To(Device.Cpu).Contiguous().MoveToOuterScope();
        }
        finally
        {
            foreach (var g in grads.Values) g.Dispose();
        }
    }

    /// <summary>One layer's AtP* for query or key sites. Scores, pattern and its gradient are [batch, head, dest, src].</summary>
    private static Tensor LayerStar(Tensor scores, Tensor pattern, Tensor gradPattern, Tensor q, Tensor k, Tensor delta, double scale, bool keys, bool byPosition)
    {
        long heads = q.Shape[2], kvHeads = k.Shape[2], pos = q.Shape[1];
        long group = heads / kvHeads;
        // Each query head's key/value head (grouped-query attention: query head h reads kv head h / group).
        var kvOf = Tensor.Arange(0, heads, device: q.Device) / group;
        var qh = q.Permute(0, 2, 1, 3); // [batch, head, pos, d_head]
        var kh = k.IndexSelect(2, kvOf).Permute(0, 2, 1, 3); // [batch, head, pos, d_head]
        Tensor Effect(Tensor deltaScores) => // Σ over src of ∂M/∂pattern · (softmax(scores + Δ) − pattern): [batch, head, dest]
            (gradPattern * ((scores + deltaScores).Softmax(-1) - pattern)).Sum(-1);
        Tensor result; // [head] or [head, pos] over query heads
        if (!keys)
        {
            var dq = delta.Permute(0, 2, 1, 3); // [batch, head, dest, d_head]
            var ds = dq.MatMul(kh.Transpose(-2, -1)) / scale; // [batch, head, dest, src]: rows are independent, so one pass
            var rows = Effect(ds).Sum(0); // [head, dest]
            result = byPosition ? rows : rows.Sum(-1);
        }
        else
        {
            var dk = delta.IndexSelect(2, kvOf).Permute(0, 2, 1, 3); // [batch, head, src, d_head]
            var ds = qh.MatMul(dk.Transpose(-2, -1)) / scale; // [batch, head, dest, src]
            if (!byPosition) result = Effect(ds).Sum([0, 2]); // [head]
            else
            {
                // A key at one position moves every row's softmax: one recomputation per key position.
                var columns = new List<Tensor>((int)pos);
                for (long t = 0; t < pos; t++)
                {
                    var only = (Tensor.Arange(0, pos, device: q.Device) == t).Reshape(1, 1, 1, pos); // [1, 1, 1, src]
                    columns.Add(Effect(Tensor.Where(only, ds, Tensor.ZerosLike(ds))).Sum([0, 2])); // [head]
                }
                result = Tensor.Stack(columns, 1); // [head, pos]
            }
            // A key head's estimate gathers the query heads that read it.
            result = result.Reshape([kvHeads, group, .. result.Shape.Skip(1)]).Sum(1); // [kv_head] or [kv_head, pos]
        }
        return byPosition ? result.Transpose(0, 1) : result; // [heads] or [pos, heads]
    }
}
