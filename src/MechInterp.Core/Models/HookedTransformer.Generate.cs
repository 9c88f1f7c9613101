using System.Runtime.CompilerServices;

namespace MechInterp;

public sealed partial class HookedTransformer
{
    /// <summary>Continues token sequences [batch, pos]; returns prompt + new tokens [batch, pos + new]. Hooks see the step
    /// in <see cref="HookPoint.GenerationStep"/>.</summary>
    public Tensor Generate(Tensor tokens, GenerateOptions? options = null)
    {
        options ??= new GenerateOptions();
        var prompt = PrepareTokens(tokens);
        using var run = new GenerationRun(this, prompt, options);
        while (run.Next() is not null) { }
        long b = prompt.Shape[0], promptLength = prompt.Shape[1], width = promptLength + run.Produced.Count;
        var all = new long[b * width];
        var promptIds = prompt.ToArray<long>();
        for (int i = 0; i < b; i++)
        {
            Array.Copy(promptIds, i * promptLength, all, i * width, promptLength);
            for (int s = 0; s < run.Produced.Count; s++) all[i * width + promptLength + s] = run.Produced[s][i];
        }
        return Tensor.FromArray(all, b, width).To(Device);
    }

    /// <summary>Continues a text prompt and returns the decoded text (prompt included; the prepended BOS left out).</summary>
    public string Generate(string prompt, GenerateOptions? options = null)
    {
        var output = Generate(ToTokens(prompt, options?.PrependBos), options);
        return DecodeGenerated(output.Reshape(-1).ToArray<long>(), null, options);
    }

    /// <summary>Continues several text prompts at once: they are left-padded (so every row ends at the last position)
    /// with the attention mask derived from the padding, as generation needs; returns each decoded text without its
    /// padding (prompt included, the prepended BOS left out).</summary>
    public string[] Generate(IReadOnlyList<string> prompts, GenerateOptions? options = null)
    {
        options ??= new GenerateOptions();
        var (tokens, mask) = ToTokens(prompts, options.PrependBos, PaddingSide.Left);
        var output = Generate(tokens, options with { AttentionMask = options.AttentionMask ?? mask });
        long width = output.Shape[1], promptLength = tokens.Shape[1];
        var ids = output.ToArray<long>();
        var real = mask.ToArray<long>();
        return [.. Enumerable.Range(0, prompts.Count).Select(r =>
            DecodeGenerated(ids.AsSpan(r * (int)width, (int)width).ToArray(), real.AsSpan(r * (int)promptLength, (int)promptLength).ToArray(), options))];
    }

    /// <summary>Streams a generation: yields each step's new token of every row ([batch] ids) as soon as it is chosen
    /// (TransformerLens's streaming use of generate). Hooks active around the enumeration apply to every step.</summary>
    public async IAsyncEnumerable<long[]> GenerateStreamAsync(Tensor tokens, GenerateOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var run = new GenerationRun(this, PrepareTokens(tokens), options ?? new GenerateOptions());
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var next = run.Next();
            if (next is null) yield break;
            yield return next;
            await Task.Yield();
        }
    }

    /// <summary>Streams the continuation of a text prompt as decoded pieces, one per new token (special tokens left
    /// out when <see cref="GenerateOptions.SkipSpecialTokens"/>).</summary>
    public async IAsyncEnumerable<string> GenerateStreamAsync(string prompt, GenerateOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var tok = RequireTokenizer();
        await foreach (var next in GenerateStreamAsync(ToTokens(prompt, options?.PrependBos), options, cancellationToken))
        {
            if (options?.SkipSpecialTokens == true && IsSpecial(next[0])) continue;
            yield return tok.Decode([(int)next[0]]);
        }
    }

    /// <summary>Decodes ids back to text; with <paramref name="skipSpecialTokens"/> BOS, EOS and pad ids are left out.</summary>
    public string ToString(Tensor tokens, bool skipSpecialTokens) =>
        RequireTokenizer().Decode(tokens.Reshape(-1).ToArray<long>().Where(i => !skipSpecialTokens || !IsSpecial(i)).Select(i => (int)i));

    /// <summary>One decoded string per row of a [batch, pos] id tensor (TransformerLens's to_string of a batch).</summary>
    public string[] ToStrings(Tensor tokens, bool skipSpecialTokens = false)
    {
        var t = tokens.Rank == 1 ? tokens.Unsqueeze(0) : tokens;
        return [.. Enumerable.Range(0, (int)t.Shape[0]).Select(r => ToString(t.Select(0, r), skipSpecialTokens))];
    }

    private bool IsSpecial(long id) => Tokenizer is { } t && (id == t.BosTokenId || id == t.EosTokenId || id == t.PadTokenId);

    private string DecodeGenerated(long[] ids, long[]? promptMask, GenerateOptions? options)
    {
        var tok = RequireTokenizer();
        bool bos = options?.PrependBos ?? Config.DefaultPrependBos;
        IEnumerable<long> kept = ids.Where((_, i) => promptMask is null || i >= promptMask.Length || promptMask[i] != 0);
        if (bos && tok.BosTokenId is not null) kept = kept.Skip(1);
        if (options?.SkipSpecialTokens == true) kept = kept.Where(i => !IsSpecial(i));
        return tok.Decode(kept.Select(i => (int)i));
    }
}
