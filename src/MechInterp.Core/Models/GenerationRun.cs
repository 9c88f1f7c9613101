namespace MechInterp;

/// <summary>
/// One generation, advanced a step at a time (<see cref="Next"/>), so the blocking and the streaming Generate share
/// it. Every step opens and closes its own tensor scope and grad mode, so nothing flow-local stays changed between
/// steps (a consumer may run arbitrary code, or await, between them); what lives across steps is detached from scopes
/// and owned here.
/// </summary>
internal sealed class GenerationRun : IDisposable
{
    private readonly HookedTransformer _model;
    private readonly GenerateOptions _options;
    private readonly Generator _generator;
    private readonly KeyValueCache? _cache;
    private readonly HashSet<long> _stops;
    private readonly long _padAfterStop;
    private readonly bool[] _finished;
    private readonly int[]? _counts; // [batch * vocab] token counts for the frequency penalty
    private readonly long _batch;
    private readonly int _vocab;
    private Tensor _sequence; // [batch, pos] prompt + new tokens (input of the cache-less passes)
    private Tensor? _mask;    // [batch, pos] of _sequence, when the prompt had one
    private Tensor _stepInput;
    private int _step;

    public GenerationRun(HookedTransformer model, Tensor prompt, GenerateOptions options)
    {
        _model = model;
        _options = options;
        _batch = prompt.Shape[0];
        _vocab = model.Config.VocabOut;
        PromptLength = prompt.Shape[1];
        int? single = options.EosTokenId ?? model.Tokenizer?.EosTokenId;
        IReadOnlyList<int> stops = options.EosTokenIds ?? (single is { } e ? [e] : []);
        _stops = stops.Select(i => (long)i).ToHashSet();
        if (options.StopAtEos && _stops.Count == 0)
            throw new ArgumentException("StopAtEos needs an EOS id: set GenerateOptions.EosTokenId or EosTokenIds, or give the model a tokenizer with an EOS token");
        int? tokEos = model.Tokenizer?.EosTokenId;
        _padAfterStop = tokEos is { } t && _stops.Contains(t) ? t : _stops.FirstOrDefault();
        _generator = options.Generator ?? new Generator(0);
        _finished = new bool[_batch];
        // Sized for the whole generation, so the cache's buffers never grow and each step writes only its own token.
        _cache = options.UseKvCache ? new KeyValueCache(model.Config.NLayers, PromptLength + Math.Max(options.MaxNewTokens, 0)) : null;
        _sequence = prompt.Detach().DetachFromScopes();
        _stepInput = _sequence;
        _mask = options.AttentionMask?.To(model.Device).To(DType.Int64).Detach().DetachFromScopes();
        if (options.FreqPenalty != 0)
        {
            _counts = new int[_batch * _vocab];
            var ids = prompt.ToArray<long>();
            var real = _mask?.ToArray<long>();
            for (int i = 0; i < ids.Length; i++)
                if (real is null || real[i] != 0) _counts[i / PromptLength * _vocab + ids[i]]++;
        }
    }

    public long PromptLength { get; }

    public List<long[]> Produced { get; } = [];

    /// <summary>The next token of every row, or null when the generation is over (MaxNewTokens, or every row stopped).</summary>
    public long[]? Next()
    {
        if (_step >= _options.MaxNewTokens || (_options.StopAtEos && _finished.All(f => f))) return null;
        long[] next;
        using (GradMode.NoGrad())
        using (Tensor.Scope())
        {
            bool cached = _cache is not null && _step > 0;
            long offset = cached ? PromptLength + _step - 1 : 0;
            Tensor logits;
            using (GenerationStep.Enter(new GenerationStep(_step, PromptLength, offset)))
            {
                var mask = cached && _mask is not null ? Tensor.Ones([_batch, 1], DType.Int64, _model.Device) : _mask;
                logits = _model.Forward(_cache is null ? _sequence : _stepInput, new ForwardOptions { AttentionMask = mask, PastKeyValues = _cache });
            }
            var last = logits.Select(1, logits.Shape[1] - 1); // [batch, vocab]
            if (_counts is not null)
                last = last - Tensor.FromArray(_counts.Select(c => (float)(c * _options.FreqPenalty)).ToArray(), _batch, _vocab).To(last.Device).To(last.DType);
            next = NextTokens(last);
        }
        if (_options.StopAtEos)
            for (int i = 0; i < _batch; i++)
            {
                if (_finished[i]) next[i] = _padAfterStop;
                else if (_stops.Contains(next[i])) _finished[i] = true;
            }
        if (_counts is not null)
            for (int i = 0; i < _batch; i++) _counts[i * _vocab + next[i]]++;
        Produced.Add(next);
        Advance(next);
        _step++;
        return next;
    }

    private void Advance(long[] next)
    {
        var token = Tensor.FromArray(next, _batch, 1).To(_model.Device).DetachFromScopes(); // [batch, 1]
        if (!ReferenceEquals(_stepInput, _sequence)) _stepInput.Dispose();
        _stepInput = token;
        if (_cache is not null) return;
        var grown = Tensor.Concat([_sequence, token], 1).DetachFromScopes();
        _sequence.Dispose();
        _sequence = grown;
        if (_mask is not null)
        {
            var mask = Tensor.Concat([_mask, Tensor.Ones([_batch, 1], DType.Int64, _model.Device)], 1).DetachFromScopes();
            _mask.Dispose();
            _mask = mask;
        }
    }

    private long[] NextTokens(Tensor last)
    {
        if (!_options.DoSample) return last.ArgMax(-1).ToArray<long>();
        var rows = (last.To(DType.Float64) / Math.Max(_options.Temperature, 1e-8)).ToArray<double>();
        var result = new long[_batch];
        for (int r = 0; r < result.Length; r++)
            result[r] = Sampling.Sample(rows.AsSpan(r * _vocab, _vocab), _options.TopK, _options.TopP, _generator);
        return result;
    }

    public void Dispose()
    {
        _cache?.Dispose();
        if (!ReferenceEquals(_stepInput, _sequence)) _stepInput.Dispose();
        _sequence.Dispose();
        _mask?.Dispose();
    }
}
