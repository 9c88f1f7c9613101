namespace MechInterp.Patching;

/// <summary>
/// The engine under every sweep: runs a list of <see cref="PatchCell"/>s on one base batch and records the metric of
/// each. Three things make it fast without changing a number:
/// <list type="bullet">
/// <item>only the patched hook point gets a hook, for exactly the passes that patch it;</item>
/// <item>a cell at layer L starts at layer L from the base run's cached <c>hook_resid_pre</c> (layers before L see
/// nothing of the patch), through <see cref="ForwardOptions.StartAtLayer"/>;</item>
/// <item>cells of one hook run together: k cells are k copies of the base batch in one forward pass, each copy with
/// its own mask, and the metric reads each copy's logits apart.</item>
/// </list>
/// Rows of a batch never mix in a transformer, so copy i's logits are those of cell i run alone.
/// </summary>
internal static class PatchSweep
{
    public static float[] Run(IHookedModel model, Tensor baseTokens, IReadOnlyList<PatchCell> cells, Func<Tensor, Tensor> metric,
        PatchingOptions? options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(metric);
        options ??= PatchingOptions.Default;
        var tokens = baseTokens.Rank == 1 ? baseTokens.Unsqueeze(0) : baseTokens; // [batch, pos]
        if (tokens.Rank != 2)
            throw new ArgumentException($"base tokens must be [batch, pos] token ids, got {Tensor.ShapeString(baseTokens.Shape)}", nameof(baseTokens));
        long batch = tokens.Shape[0], pos = tokens.Shape[1];
        var results = new float[cells.Count];
        if (cells.Count == 0) return results;
        int perPass = (int)Math.Max(1, options.MaxTokensPerForward / Math.Max(1, batch * pos));
        var decoder = options.StartAtPatchedLayer ? model as HookedTransformer : null;
        var readPositions = ReadPositions(options.MetricPositions, pos, model.Device);

        using var sweepScope = Tensor.Scope();
        var groups = GroupByHookAndValue(cells);
        var baseRun = BaseRun(model, tokens, groups, decoder is not null, options.SkipUnchangedCells, metric, readPositions);
        int done = 0;
        foreach (var group in groups)
        {
            var point = model.GetHookPoint(group.Hook);
            int? layer = point.Layer;
            var start = layer is { } l && decoder is not null ? baseRun.Cache[ActName.ResidPre(l)] : null; // [batch, pos, d_model]
            var value = group.Value.To(model.Device);
            var todo = group.Indices;
            if (options.SkipUnchangedCells)
            {
                // A cell that writes what is already there is the base run itself.
                var same = todo.Where(i => WritesNothingNew(baseRun.Cache[group.Hook], cells[i].Mask.To(model.Device), value)).ToHashSet();
                foreach (var i in same) results[i] = baseRun.Metric;
                todo = todo.Where(i => !same.Contains(i)).ToList();
                if (same.Count > 0) options.Progress?.Report(new PatchingProgress(done += same.Count, cells.Count, group.Hook));
            }
            for (int first = 0; first < todo.Count; first += perPass)
            {
                int k = Math.Min(perPass, todo.Count - first);
                using var passScope = Tensor.Scope();
                var mask = StackMasks(todo.Skip(first).Take(k).Select(i => cells[i].Mask.To(model.Device)).ToList(), batch, group.Hook);
                var values = value.Shape.Length > 0 && value.Shape[0] == batch && k > 1 ? Repeat(value, k) : value;
                var ctx = new HookContext().Add(point, (x, h) => Write(x, mask, values, h.Name));
                var input = start ?? tokens.To(model.Device);
                CommonForwardOptions forward = start is null ? new CommonForwardOptions() : new ForwardOptions { StartAtLayer = layer };
                Tensor logits;
                using (GradMode.NoGrad())
                using (ctx.Activate())
                    logits = Logits(model, Repeat(input, k), forward, readPositions, ctx);
                for (int c = 0; c < k; c++)
                    results[todo[first + c]] = Scalar(metric(logits.Narrow(0, c * batch, batch)));
                done += k;
                options.Progress?.Report(new PatchingProgress(done, cells.Count, group.Hook));
            }
        }
        return results;
    }

    /// <summary>The forward pass of one batch of cells: full logits, or (with metric positions) the last block's output
    /// captured at its <c>hook_resid_post</c>, normalised and unembedded at those positions only.</summary>
    private static Tensor Logits(IHookedModel model, Tensor input, CommonForwardOptions forward, Tensor? readPositions, HookContext ctx)
    {
        if (readPositions is null) return model.Forward(input, forward);
        string last = ActName.ResidPost(model.Config.NLayers - 1);
        if (!model.HookDict.TryGetValue(last, out var final))
            return model.Forward(input, forward).IndexSelect(1, readPositions); // [rows, n, d_vocab]
        Tensor? residual = null;
        ctx.AddObserver(final, (x, _) => residual = x);
        model.Forward(input, forward with { ReturnType = ReturnType.None });
        if (residual is null) throw new InvalidOperationException($"'{last}' did not fire during the forward pass");
        return model.ToLogits(model.ApplyFinalNorm(residual.IndexSelect(1, readPositions))); // [rows, n, d_vocab]
    }

    private static Tensor? ReadPositions(IReadOnlyList<Index>? positions, long pos, Device device)
    {
        if (positions is null) return null;
        if (positions.Count == 0) throw new ArgumentException("MetricPositions is empty: list the positions the metric reads, or leave it null for all");
        var ids = positions.Select(i =>
        {
            long at = i.IsFromEnd ? pos - i.Value : i.Value;
            return at >= 0 && at < pos ? at : throw new ArgumentOutOfRangeException(nameof(positions), $"metric position {i} is outside the {pos} positions of the base tokens");
        }).ToArray();
        return Tensor.FromArray(ids, [ids.Length], DType.Int64, device);
    }

    /// <summary>The unpatched base run: its metric, and a cache of the residual stream entering every layer (to start
    /// patched passes there) and of each patched activation (to spot cells that change nothing).</summary>
    private static (float Metric, ActivationCache Cache) BaseRun(IHookedModel model, Tensor tokens, List<Group> groups, bool residuals,
        bool patchedHooks, Func<Tensor, Tensor> metric, Tensor? readPositions)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
        {
            if (patchedHooks) names.Add(g.Hook);
            if (residuals && model.GetHookPoint(g.Hook).Layer is { } l) names.Add(ActName.ResidPre(l));
        }
        var (logits, cache) = model.RunWithCache(tokens.To(model.Device), names.Contains);
        if (readPositions is not null) logits = logits.IndexSelect(1, readPositions); // [batch, n, d_vocab]
        return (Scalar(metric(logits)), cache);
    }

    /// <summary>True when writing <paramref name="value"/> where <paramref name="mask"/> is true leaves
    /// <paramref name="activation"/> as it is, bit for bit.</summary>
    private static bool WritesNothingNew(Tensor activation, Tensor mask, Tensor value)
    {
        using var scope = Tensor.Scope();
        var written = Write(activation, mask, value, "(base run)");
        return (written != activation).To(DType.Int64).Sum().Item<long>() == 0;
    }

    private sealed record Group(string Hook, Tensor Value, List<int> Indices);

    private static List<Group> GroupByHookAndValue(IReadOnlyList<PatchCell> cells)
    {
        var groups = new List<Group>();
        var byKey = new Dictionary<(string, Tensor), Group>();
        for (int i = 0; i < cells.Count; i++)
        {
            var c = cells[i] ?? throw new ArgumentException($"cell {i} is null", nameof(cells));
            if (c.Mask.DType != DType.Bool)
                throw new ArgumentException($"cell {i} at '{c.Hook}': the mask must be a Bool tensor (got {c.Mask.DType}); build it with a comparison or Tensor.FromArray(bool[], shape)", nameof(cells));
            if (!byKey.TryGetValue((c.Hook, c.Value), out var g))
                groups.Add(byKey[(c.Hook, c.Value)] = g = new Group(c.Hook, c.Value, []));
            g.Indices.Add(i);
        }
        return groups;
    }

    /// <summary>k masks [1 or batch, ...] as one [k·batch, ...] mask, copy c's rows from mask c.</summary>
    private static Tensor StackMasks(List<Tensor> masks, long batch, string hook)
    {
        var rank = masks[0].Rank;
        var expanded = new List<Tensor>(masks.Count);
        foreach (var m in masks)
        {
            if (m.Rank != rank || m.Rank == 0 || (m.Shape[0] != 1 && m.Shape[0] != batch))
                throw new ArgumentException($"masks of '{hook}' must share the activation's rank and have batch size 1 or {batch}; got {Tensor.ShapeString(m.Shape)}");
            expanded.Add(m.Shape[0] == batch ? m : m.Expand([batch, .. m.Shape.Skip(1)]));
        }
        // Masks may broadcast along different dims; expand each to the common shape before stacking.
        var common = expanded.Select(m => m.Shape).Aggregate((a, b) => a.Zip(b, Math.Max).ToArray());
        return expanded.Count == 1 ? expanded[0] : Tensor.Concat(expanded.Select(m => m.Expand(common)).ToList(), 0);
    }

    private static Tensor Repeat(Tensor x, int k) => k == 1 ? x : Tensor.Concat(Enumerable.Repeat(x, k).ToList(), 0);

    internal static Tensor Write(Tensor x, Tensor mask, Tensor value, string hook)
    {
        for (int d = 0; d < x.Rank; d++)
        {
            bool maskOk = mask.Rank == x.Rank && (mask.Shape[d] == 1 || mask.Shape[d] == x.Shape[d]);
            bool valueOk = value.Rank == 0 || (value.Rank == x.Rank && (value.Shape[d] == 1 || value.Shape[d] == x.Shape[d]));
            if (!maskOk || !valueOk)
                throw new ArgumentException($"patch at '{hook}': the activation is {Tensor.ShapeString(x.Shape)} (copies × batch first) but the mask is " +
                    $"{Tensor.ShapeString(mask.Shape)} and the value {Tensor.ShapeString(value.Shape)}: each dim must be the activation's or 1 " +
                    "(was the source cache made from tokens of another length?)");
        }
        return Tensor.Where(mask, value.DType == x.DType ? value : value.To(x.DType), x);
    }

    internal static float Scalar(Tensor m)
    {
        if (m.NumElements != 1)
            throw new ArgumentException($"the metric returned shape {Tensor.ShapeString(m.Shape)}: it must reduce logits [batch, pos, d_vocab] to one number (e.g. end with .Mean() or .Sum())");
        return m.Item<float>();
    }
}
