using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Workload B against workload A as a paired measurement: each round times one forward to logits (A) and one
/// RunWithCache of every hook (B) back to back on the same engine, shape and tokens, after waiting for a quiet
/// machine, so both halves of a pair see the same machine state. Prints each pair and the median of B/A over pairs
/// (the "B at most 1.05× A"), beside the medians of each.
/// </summary>
public static class CacheOverheadProbe
{
    /// <summary>The command-line switch that selects this probe.</summary>
    public const string Switch = "--cache-overhead";

    /// <summary>Arguments: ENGINE SHAPE [ROUNDS] [FILTER]. One warm-up pair is not counted. FILTER (comma-separated name
    /// fragments, e.g. "hook_resid,ln1.") caches only the matching hook points, to see which ones cost.</summary>
    public static int Run(string[] args)
    {
        var engine = Enum.Parse<Engine>(args[0]);
        var (b, s) = Engines.ParseShape(args[1]);
        int rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 7;
        string[]? fragments = args.Length > 3 ? args[3].Split(',', StringSplitOptions.RemoveEmptyEntries) : null;
        Func<string, bool>? filter = fragments is null ? null : name => fragments.Any(f => name.Contains(f, StringComparison.Ordinal));
        var model = Engines.Gpt2(engine);
        using var tokens = Engines.Tokens(model, b, s);
        var a = new List<double>();
        var c = new List<double>();
        for (int round = 0; round <= rounds; round++)
        {
            double load = QuietMachine.Wait();
            double forward = Time(() => { using var scope = Tensor.Scope(); model.Forward(tokens); });
            double cached = Time(() =>
            {
                using var scope = Tensor.Scope();
                var (_, cache) = model.RunWithCache(tokens, filter);
                cache.Dispose();
            });
            if (round == 0) continue;
            a.Add(forward);
            c.Add(cached);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"pair {round}: A {forward:F0} ms, B {cached:F0} ms, B/A {cached / forward:F3} (other processes {load:F2} cores)"));
        }
        var ratios = a.Zip(c, (x, y) => y / x).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {engine} | {args[1]} | A median {Median(a):F0} ms | B median {Median(c):F0} ms | median of B/A over {rounds} pairs {Median(ratios):F3} | min {ratios.Min():F3} | max {ratios.Max():F3} |"));
        return 0;
    }

    private static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
