using MechInterp.Models;

namespace MechInterp;

public sealed partial class HookedTransformer
{
    /// <summary>Runs the model on tokens [batch, pos] (or [pos]); returns what <see cref="CommonForwardOptions.ReturnType"/> asks
    /// (logits by default; with <see cref="CommonForwardOptions.StopAtLayer"/>, the residual stream).</summary>
    public Tensor Forward(Tensor input, ForwardOptions? options = null)
    {
        options ??= new ForwardOptions();
        ForwardOutput.RejectBoth(options);
        return ForwardFull(input, options).Select(options.ReturnType, Device);
    }

    Tensor IHookedModel.Forward(Tensor input, CommonForwardOptions? options) => Forward(input, ForwardOptions.From(options));

    ForwardOutput IHookedModel.ForwardFull(Tensor input, CommonForwardOptions? options) => ForwardFull(input, ForwardOptions.From(options));

    /// <summary>Runs a string through the model (tokenised with the model's tokenizer, truncated to n_ctx).</summary>
    public Tensor Forward(string text, ForwardOptions? options = null) =>
        Forward(ToTokens(text, options?.PrependBos), options);

    /// <summary>Runs a batch of texts through the model: tokenised, padded on <see cref="PaddingSide"/>, with the attention
    /// mask derived from the padding (unless <see cref="CommonForwardOptions.AttentionMask"/> is given), as TransformerLens does
    /// for a list of strings. Logits at pad positions are not meaningful; the loss skips them.</summary>
    public Tensor Forward(IReadOnlyList<string> texts, ForwardOptions? options = null)
    {
        var (tokens, mask) = ToTokens(texts, options?.PrependBos);
        return Forward(tokens, (options ?? new ForwardOptions()) with { AttentionMask = options?.AttentionMask ?? mask });
    }

    /// <summary>Runs the model and returns everything asked for (logits and/or loss, or the stopped residual).</summary>
    public ForwardOutput ForwardFull(Tensor input, ForwardOptions? options = null)
    {
        options ??= new ForwardOptions();
        int start = options.StartAtLayer is { } a ? (a < 0 ? a + Config.NLayers : a) : 0; // negative counts from the end, as blocks[start:]
        int stop = options.StopAtLayer is { } s ? (s < 0 ? s + Config.NLayers : s) : Config.NLayers;
        if (start < 0 || start > Config.NLayers) throw new ArgumentOutOfRangeException(nameof(options), $"StartAtLayer {options.StartAtLayer} is outside {-Config.NLayers}..{Config.NLayers} (negative counts from the end)");
        if (stop < start || stop > Config.NLayers) throw new ArgumentOutOfRangeException(nameof(options), $"StopAtLayer {options.StopAtLayer} must be in {start}..{Config.NLayers}");

        Tensor? tokens = null;
        Tensor residual;
        var cache = options.PastKeyValues;
        if (options.StartAtLayer is null)
        {
            tokens = PrepareTokens(input);
            long b = tokens.Shape[0], p = tokens.Shape[1];
            var (positions, padding) = ResolvePositions(b, p, options, cache);
            using var ctx = new ForwardScope(this, positions, padding, cache);
            residual = HookEmbed.Invoke(Embed.Forward(tokens));
            if (PosEmbed is not null)
                residual = residual + HookPosEmbed!.Invoke(PosEmbed.Forward(positions.Shape[0] == b ? positions : positions.Expand(b, p)));
            residual = RunBlocks(residual, start, stop, ctx.Context);
        }
        else
        {
            residual = input;
            if (residual.Rank != 3 || residual.Shape[2] != Config.DModel)
                throw new ArgumentException($"with StartAtLayer the input must be a residual stream [batch, pos, {Config.DModel}], got {Tensor.ShapeString(residual.Shape)}");
            tokens = options.Tokens is null ? null : PrepareTokens(options.Tokens);
            var (positions, padding) = ResolvePositions(residual.Shape[0], residual.Shape[1], options, cache);
            using var ctx = new ForwardScope(this, positions, padding, cache);
            residual = RunBlocks(residual, start, stop, ctx.Context);
        }
        if (stop < Config.NLayers) return new ForwardOutput(null, null, residual);
        var normalized = LnFinal.Forward(residual); // ln_final's hooks fire even for ReturnType.None, as in TransformerLens
        if (options.ReturnType == ReturnType.None) return new ForwardOutput(null, null, null);

        var logits = Unembed.Forward(normalized, Config.OutputLogitsSoftCap);
        Tensor? loss = null;
        if (options.ReturnType is ReturnType.Loss or ReturnType.Both)
        {
            if (tokens is null) throw new ArgumentException("a loss needs tokens: pass ForwardOptions.Tokens when starting from a residual stream");
            loss = LossFunctions.NextTokenLoss(logits, tokens, options.AttentionMask, options.LossPerToken);
        }
        return new ForwardOutput(options.ReturnType == ReturnType.Loss ? null : logits, loss, null);
    }

    private Tensor RunBlocks(Tensor residual, int start, int stop, AttentionContext context)
    {
        int l = start;
        if (NoGradientThrough(residual))
        {
            // No autograd graph will be kept: free each block's temporaries when the block ends, so their pooled buffers
            // serve the next block instead of the pass holding every intermediate at once. Activations a hook sees move
            // to the caller's scope (a hook may keep them: RunWithCache, patching), so only what nobody saw is freed.
            bool anyHook = AnyHookListening();
            var input = residual;
            // A hook that brings in a gradient-requiring tensor starts a graph: from then on the plain loop keeps everything.
            for (; l < stop && !(residual.RequiresGrad && GradMode.IsEnabled); l++)
            {
                Tensor next;
                using (var scope = TensorScope.OpenTransient())
                {
                    next = Blocks[l].Forward(residual, context);
                    scope.MoveOut(next);
                }
                // Between blocks the residual is ours to free, unless a hook (resid_post/resid_pre) may hold it.
                if (!anyHook && !ReferenceEquals(residual, input)) residual.Dispose();
                residual = next;
            }
        }
        for (; l < stop; l++) residual = Blocks[l].Forward(residual, context);
        return residual;
    }

    /// <summary>True when a hook registered on any point, or this call's hook context, may see an activation.</summary>
    private bool AnyHookListening()
    {
        return HookContext.Current is not null || HookRegistry.AnyRegistered;
    }

    /// <summary>True when no gradient will be taken through this pass: grad mode is off, or nothing requires a gradient
    /// and no backward hook would attach one.</summary>
    private bool NoGradientThrough(Tensor residual)
    {
        if (!GradMode.IsEnabled) return true;
        if (residual.RequiresGrad) return false;
        if (HookContext.Current?.AnyBackward() == true) return false;
        if (HookRegistry.AnyBackwardRegistered) return false;
        foreach (var (_, p) in NamedParameters())
            if (p.Value.RequiresGrad) return false;
        return true;
    }

    private Tensor PrepareTokens(Tensor input) => ModelInputs.PrepareTokens(input, Device, Config.DVocab);

    /// <summary>Query position ids and the padding mask (TransformerLens: positions count from the first real token).
    /// With a cache, the padding returned is the new tokens' [b, p] (or the whole sequence's, when the mask given covers
    /// the cached tokens too) and <see cref="ForwardScope"/> appends it to the cached one; no cached data is copied.</summary>
    private (Tensor Positions, Tensor? Padding) ResolvePositions(long b, long p, ForwardOptions options, KeyValueCache? cache)
    {
        long past = cache?.Length ?? 0;
        if (options.AttentionMask is { } mask)
        {
            var m = mask.Rank == 1 ? mask.Unsqueeze(0) : mask;
            long total = past + p;
            if (m.Shape[0] != b || (m.Shape[1] != p && m.Shape[1] != total))
                throw new ArgumentException($"AttentionMask has shape {Tensor.ShapeString(m.Shape)} but the input is [{b}, {p}]" + (past > 0 ? $" with {past} cached tokens" : ""));
            var bools = m.To(Device).To(DType.Bool);
            var cum = bools.To(DType.Int64).CumSum(1) - 1;
            if (m.Shape[1] == p && past > 0) // the new tokens' mask: count on from the real tokens already cached
                cum = cache!.RealTokens is { } real ? cum + real : cum + past;
            var full = Tensor.Where(cum < 0, Tensor.Zeros([], DType.Int64, Device), cum);
            return (full.Shape[1] == p ? full : full.Narrow(1, full.Shape[1] - p, p), bools);
        }
        Tensor positions;
        if (options.Positions is { } given)
            positions = (given.Rank == 1 ? given.Unsqueeze(0) : given).To(Device).To(DType.Int64);
        else if (cache?.Positions is { } pastPositions && past > 0)
            positions = pastPositions.Narrow(1, pastPositions.Shape[1] - 1, 1) + Tensor.Arange(1, p + 1, device: Device).Unsqueeze(0);
        else
            positions = Tensor.Arange(past, past + p, device: Device).Unsqueeze(0);
        return (positions, null);
    }

    /// <summary>Builds the per-pass attention context and updates the cache's bookkeeping when the pass ends.</summary>
    private sealed class ForwardScope : IDisposable
    {
        public ForwardScope(HookedTransformer model, Tensor positions, Tensor? padding, KeyValueCache? cache)
        {
            var (keyPositions, keyPadding) = cache is null ? (positions, padding)
                : cache.Advance(positions, padding, padding?.Shape[0] ?? positions.Shape[0], positions.Shape[1]);
            Context = new AttentionContext(positions, keyPositions, keyPadding, model.Config.Bidirectional, model.Config.WindowSize, cache);
        }

        public AttentionContext Context { get; }

        public void Dispose() => Context.Release();
    }
}
