namespace MechInterp.Saes;

/// <summary>
/// Streams activations at one or more hooks of a model over a token dataset, for SAE training (SAELens's
/// ActivationsStore): runs the model on chunks of sequences (one pass serves every hook), drops excluded positions,
/// gathers rows in a shuffling buffer and cuts batches of <see cref="ActivationStoreOptions.BatchTokens"/> rows. Every
/// hook's batch holds the same token positions in the same order (so a transcoder's input and target rows match).
/// Activations are flattened to [rows, width] (hook_z [batch, pos, head, d_head] → [rows, head·d_head]).
/// </summary>
public sealed class ActivationStore
{
    private readonly IHookedModel _model;
    private readonly Tensor _tokens;
    private readonly string[] _hooks;

    /// <summary>A store over <paramref name="tokens"/> [sequences, positions] (int64) for the hooks <paramref name="hookNames"/>.</summary>
    /// <exception cref="UnknownHookException">A hook name is not one of the model's.</exception>
    public ActivationStore(IHookedModel model, Tensor tokens, IEnumerable<string> hookNames, ActivationStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(hookNames);
        if (tokens.Rank != 2 || tokens.DType.IsFloatingPoint())
            throw new ArgumentException($"tokens must be integer ids [sequences, positions], got {tokens.DType} {Tensor.ShapeString(tokens.Shape)}", nameof(tokens));
        _model = model;
        _tokens = tokens;
        _hooks = hookNames.Distinct(StringComparer.Ordinal).ToArray();
        if (_hooks.Length == 0) throw new ArgumentException("name at least one hook to store", nameof(hookNames));
        foreach (var h in _hooks) model.GetHookPoint(h);
        Options = options ?? new ActivationStoreOptions();
        if (Options.BatchTokens < 1 || Options.SequencesPerPass < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "BatchTokens and SequencesPerPass must be positive");
    }

    /// <summary>The options.</summary>
    public ActivationStoreOptions Options { get; }

    /// <summary>The hooks stored.</summary>
    public IReadOnlyList<string> HookNames => _hooks;

    /// <summary>Model passes made so far.</summary>
    public int Passes { get; private set; }

    /// <summary>One pass over the dataset: batches by hook name, each [BatchTokens, width]; a last partial batch is dropped.</summary>
    public IEnumerable<IReadOnlyDictionary<string, Tensor>> Batches()
    {
        var rng = new Generator(Options.Seed);
        var device = Options.Device ?? _model.Device;
        int batch = Options.BatchTokens;
        long bufferRows = Math.Max(1, Options.ShuffleBufferBatches) * (long)batch;
        var buffer = _hooks.ToDictionary(h => h, _ => new List<Tensor>(), StringComparer.Ordinal);
        long buffered = 0;
        long sequences = _tokens.Shape[0];
        for (long start = 0; start < sequences; start += Options.SequencesPerPass)
        {
            foreach (var (hook, rows) in Harvest(start, Math.Min(Options.SequencesPerPass, sequences - start), device))
                buffer[hook].Add(rows);
            buffered += buffer[_hooks[0]][^1].Shape[0];
            if (buffered < bufferRows) continue;
            foreach (var b in Cut(buffer, ref buffered, batch, rng, final: false)) yield return b;
        }
        foreach (var b in Cut(buffer, ref buffered, batch, rng, final: true)) yield return b;
    }

    // Runs the model on sequences [start, start + count) and returns each hook's kept rows [rows, width].
    private List<(string Hook, Tensor Rows)> Harvest(long start, long count, Device device)
    {
        using var noGrad = GradMode.NoGrad();
        using var scope = Tensor.Scope();
        var ids = _tokens.Narrow(0, start, count);                                    // [count, pos]
        if (Options.ContextSize is { } ctx && ctx < ids.Shape[1]) ids = ids.Narrow(1, 0, ctx);
        var (_, cache) = _model.RunWithCache(ids.To(_model.Device), _hooks);
        Passes++;
        var keep = KeptRows(ids);                                                      // [kept] int64
        var result = new List<(string, Tensor)>();
        foreach (var h in _hooks)
        {
            var act = cache[h];                                                        // [count, pos, ...]
            var rows = act.Reshape(act.Shape[0] * act.Shape[1], -1);                   // [count * pos, width]
            result.Add((h, rows.IndexSelect(0, keep.To(rows.Device)).To(device).Contiguous().MoveToOuterScope().DetachFromScopes()));
        }
        cache.Dispose();
        return result;
    }

    private Tensor KeptRows(Tensor ids)
    {
        var host = ids.To(Device.Cpu).To(DType.Int64).ToArray<long>();
        long pos = ids.Shape[1];
        var excluded = Options.ExcludeTokenIds.ToHashSet();
        var kept = new List<long>();
        for (long i = 0; i < host.LongLength; i++)
            if (i % pos >= Options.ExcludeFirstPositions && !excluded.Contains(host[i])) kept.Add(i);
        return Tensor.FromArray(kept.ToArray(), kept.Count);
    }

    // Shuffles the buffer (one permutation for every hook) and emits full batches; keeps the remainder unless final.
    private IEnumerable<IReadOnlyDictionary<string, Tensor>> Cut(Dictionary<string, List<Tensor>> buffer, ref long buffered, int batch, Generator rng, bool final)
    {
        var result = new List<IReadOnlyDictionary<string, Tensor>>();
        if (buffered == 0) return result;
        var all = _hooks.ToDictionary(h => h, h => buffer[h].Count == 1 ? buffer[h][0] : Tensor.Concat(buffer[h], 0), StringComparer.Ordinal);
        long n = buffered;
        Tensor? order = Options.ShuffleBufferBatches > 0 ? Permutation(n, rng, all[_hooks[0]].Device) : null;
        long full = n / batch * batch;
        for (long s = 0; s + batch <= full; s += batch)
        {
            var b = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var h in _hooks)
            {
                // Unshuffled rows are a view of the buffer, which is freed below: copy them out (Clone, not Contiguous,
                // which returns a contiguous view itself).
                var rows = order is null ? all[h].Narrow(0, s, batch).Clone() : all[h].IndexSelect(0, order.Narrow(0, s, batch));
                b[h] = rows.Contiguous().DetachFromScopes();
            }
            result.Add(b);
        }
        foreach (var h in _hooks)
        {
            var rest = n - full;
            var remainder = final || rest == 0 ? null
                : (order is null ? all[h].Narrow(0, full, rest).Clone() : all[h].IndexSelect(0, order.Narrow(0, full, rest))).Contiguous().DetachFromScopes();
            foreach (var t in buffer[h]) t.Dispose();
            buffer[h].Clear();
            if (remainder is not null) buffer[h].Add(remainder);
        }
        buffered = final ? 0 : n - full;
        return result;
    }

    private static Tensor Permutation(long n, Generator rng, Device device)
    {
        var p = new long[n];
        for (long i = 0; i < n; i++) p[i] = i;
        for (long i = n - 1; i > 0; i--)
        {
            long j = rng.NextInt64(0, i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return Tensor.FromArray(p, n).To(device);
    }
}
