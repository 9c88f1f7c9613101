namespace MechInterp;

public sealed partial class HookedTransformer
{
    /// <summary>Continues token sequences [batch, pos]; returns prompt + new tokens [batch, pos + MaxNewTokens].</summary>
    public Tensor Generate(Tensor tokens, GenerateOptions? options = null)
    {
        options ??= new GenerateOptions();
        var prompt = PrepareTokens(tokens);
        long b = prompt.Shape[0];
        int? eos = options.EosTokenId ?? Tokenizer?.EosTokenId;
        if (options.StopAtEos && eos is null) throw new ArgumentException("StopAtEos needs an EOS id: set GenerateOptions.EosTokenId");
        var generator = options.Generator ?? new Generator(0);
        var finished = new bool[b];
        var produced = new List<long[]>();
        using var _ = GradMode.NoGrad();
        // Sized for the whole generation, so the cache's buffers never grow and each step writes only its own token.
        using var cache = options.UseKvCache ? new KeyValueCache(Config.NLayers, prompt.Shape[1] + Math.Max(options.MaxNewTokens, 0)) : null;
        using var outer = Tensor.Scope();
        var mask = options.AttentionMask?.To(Device);
        // With the cache, each step's mask covers only its new token (the cache keeps the earlier ones).
        var stepMask = cache is not null && mask is not null ? Tensor.Ones([b, 1], DType.Int64, Device) : null;
        var sequence = prompt;
        var stepInput = prompt;
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            using var scope = Tensor.Scope();
            var logits = Forward(cache is null ? sequence : stepInput, new ForwardOptions { AttentionMask = step > 0 && stepMask is not null ? stepMask : mask, PastKeyValues = cache });
            var last = logits.Select(1, logits.Shape[1] - 1);
            var next = NextTokens(last, options, generator);
            if (options.StopAtEos)
                for (int i = 0; i < b; i++)
                {
                    if (finished[i]) next[i] = eos!.Value;
                    else if (next[i] == eos) finished[i] = true;
                }
            produced.Add(next);
            var nextTensor = Tensor.FromArray(next, b, 1).To(Device);
            stepInput = nextTensor.MoveToOuterScope();
            if (cache is null)
            {
                sequence = Tensor.Concat([sequence, nextTensor], 1).MoveToOuterScope();
                if (mask is not null) mask = Tensor.Concat([mask.To(DType.Int64), Tensor.Ones([b, 1], DType.Int64, Device)], 1).MoveToOuterScope();
            }
            if (options.StopAtEos && finished.All(f => f)) break;
        }
        var all = new long[b * (prompt.Shape[1] + produced.Count)];
        var promptIds = prompt.ToArray<long>();
        long width = prompt.Shape[1] + produced.Count;
        for (int i = 0; i < b; i++)
        {
            Array.Copy(promptIds, i * prompt.Shape[1], all, i * width, prompt.Shape[1]);
            for (int s = 0; s < produced.Count; s++) all[i * width + prompt.Shape[1] + s] = produced[s][i];
        }
        return Tensor.FromArray(all, b, width).To(Device).MoveToOuterScope();
    }

    /// <summary>Continues a text prompt and returns the decoded text (prompt included).</summary>
    public string Generate(string prompt, GenerateOptions? options = null)
    {
        var tokens = ToTokens(prompt, options?.PrependBos);
        var output = Generate(tokens, options);
        bool bos = options?.PrependBos ?? Config.DefaultPrependBos;
        var ids = output.Reshape(-1).ToArray<long>().Skip(bos && Tokenizer?.BosTokenId is not null ? 1 : 0).Select(i => (int)i);
        return RequireTokenizer().Decode(ids);
    }

    private static long[] NextTokens(Tensor lastLogits, GenerateOptions options, Generator generator)
    {
        if (!options.DoSample) return lastLogits.ArgMax(-1).ToArray<long>();
        var logits = lastLogits.To(DType.Float64) / Math.Max(options.Temperature, 1e-8);
        var rows = logits.ToArray<double>();
        long vocab = lastLogits.Shape[^1];
        var result = new long[lastLogits.Shape[0]];
        for (int r = 0; r < result.Length; r++)
            result[r] = Sampling.Sample(rows.AsSpan(r * (int)vocab, (int)vocab), options.TopK, options.TopP, generator);
        return result;
    }
}

/// <summary>Top-k / top-p sampling from one row of logits on the host.</summary>
internal static class Sampling
{
    public static long Sample(ReadOnlySpan<double> logits, int? topK, double? topP, Generator generator)
    {
        var order = Enumerable.Range(0, logits.Length).ToArray();
        var values = logits.ToArray();
        Array.Sort(values.Select(v => -v).ToArray(), order);
        int keep = Math.Min(topK ?? logits.Length, logits.Length);
        double max = values[order[0]];
        var probs = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) { probs[i] = Math.Exp(values[order[i]] - max); sum += probs[i]; }
        if (topP is { } p)
        {
            double cum = 0;
            for (int i = 0; i < keep; i++)
            {
                cum += probs[i] / sum;
                if (cum >= p) { keep = i + 1; break; }
            }
            sum = probs.Take(keep).Sum();
        }
        double u = generator.NextDouble() * sum;
        for (int i = 0; i < keep; i++)
        {
            u -= probs[i];
            if (u <= 0) return order[i];
        }
        return order[keep - 1];
    }
}
