using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Where the time of a key/value-cached decode step goes (workload D's loop written out): a prefill forward of the
/// prompt, then one forward per new token with <see cref="ForwardOptions.PastKeyValues"/>, greedy argmax on the host.
/// First without hooks (the true per-token time), then with the timing hooks of <see cref="ComponentProfile"/> on the
/// component boundaries, which split each step into embedding + position/mask bookkeeping, the per-layer components
/// (the attention core includes the cache append), the final norm + unembedding, and the host-side argmax.
/// Hooks switch off the per-block freeing, so the hooked total runs a little above the plain one.
/// </summary>
public static class DecodeProfile
{
    /// <summary>Arguments: ENGINE PROMPT ("1x16") NEW_TOKENS [REPEATS]; prints milliseconds per new token.</summary>
    public static int Run(Engine engine, string promptShape, int newTokens, int repeats)
    {
        var model = Engines.Gpt2(engine);
        var (b, s) = Engines.ParseShape(promptShape);
        using var prompt = Engines.Tokens(model, b, s, seed: 3);
        var plain = new List<double>();
        var prefill = new List<double>();
        for (int r = 0; r < repeats + 1; r++)
        {
            var (pre, perToken) = Decode(model, prompt, newTokens, null);
            if (r == 0) continue;
            prefill.Add(pre);
            plain.Add(perToken);
        }
        var clock = Stopwatch.StartNew();
        var stamps = new Dictionary<string, double>(StringComparer.Ordinal);
        var handles = ComponentProfile.AddStampHooks(model, clock, stamps);
        var totals = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        for (int r = 0; r < repeats + 1; r++)
        {
            var perLabel = new Dictionary<string, double>(StringComparer.Ordinal);
            Decode(model, prompt, newTokens, (start, forwardEnd, end) =>
            {
                foreach (var (k, v) in ComponentProfile.Split(model, stamps, start, forwardEnd))
                    perLabel[k] = perLabel.GetValueOrDefault(k) + v / newTokens;
                perLabel["argmax + host"] = perLabel.GetValueOrDefault("argmax + host") + (end - forwardEnd) / newTokens;
                perLabel["step total"] = perLabel.GetValueOrDefault("step total") + (end - start) / newTokens;
            }, clock);
            if (r == 0) continue;
            foreach (var (k, v) in perLabel) (totals.TryGetValue(k, out var list) ? list : totals[k] = []).Add(v);
        }
        foreach (var h in handles) h.Dispose();
        Console.WriteLine($"{engine} decode {promptShape} + {newTokens}: median over {repeats} generations (other processes' load ~{QuietMachine.OtherCores(0.5):F2} cores)");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  no hooks: prefill {Median(prefill):F1} ms, {Median(plain):F2} ms per new token"));
        Console.WriteLine("  with timing hooks, ms per new token:");
        foreach (var (k, v) in totals)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {k,-20} {Median(v),9:F2}"));
        return 0;
    }

    /// <summary>Prefill + greedy cached decode; returns the prefill time and the mean time per new token (ms).
    /// <paramref name="onStep"/>, when given, receives each step's start, forward end and step end on <paramref name="clock"/>.</summary>
    private static (double Prefill, double PerToken) Decode(HookedTransformer model, Tensor prompt, int newTokens,
        Action<double, double, double>? onStep, Stopwatch? clock = null)
    {
        clock ??= Stopwatch.StartNew();
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        using var cache = new KeyValueCache(model.Config.NLayers);
        double t0 = clock.Elapsed.TotalMilliseconds;
        var logits = model.Forward(prompt, new ForwardOptions { PastKeyValues = cache });
        var next = logits.Select(1, logits.Shape[1] - 1).ArgMax(-1).ToArray<long>();
        double t1 = clock.Elapsed.TotalMilliseconds;
        for (int i = 0; i < newTokens; i++)
        {
            using var step = Tensor.Scope();
            double start = clock.Elapsed.TotalMilliseconds;
            var input = Tensor.FromArray(next, next.Length, 1).To(model.Device);
            logits = model.Forward(input, new ForwardOptions { PastKeyValues = cache });
            double forwardEnd = clock.Elapsed.TotalMilliseconds;
            next = logits.Select(1, logits.Shape[1] - 1).ArgMax(-1).ToArray<long>();
            onStep?.Invoke(start, forwardEnd, clock.Elapsed.TotalMilliseconds);
        }
        return (t1 - t0, (clock.Elapsed.TotalMilliseconds - t1) / newTokens);
    }

    private static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
}
