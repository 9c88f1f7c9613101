using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Issue 16's measurements as a user runs them, in a plain Stopwatch loop (no quiet-machine wait: the point is the
/// machine as it is): one case per process, printing every timing, the median, min, max and spread, as one table row
/// that <c>benchmarks/scripts/perf16.sh</c> collects beside the PyTorch peer.
/// </summary>
public static class Issue16Probe
{
    /// <summary>The command-line switch that selects this probe.</summary>
    public const string Switch = "--issue16";

    /// <summary>Arguments: CASE [SHAPE] [REPS]. CASE: fwd, cache, fwdbwd, gen (32 new tokens, KV cache, prompt 1×16),
    /// first5 (the first five forwards right after loading, then REPS steady ones), gemm (1024³, 2 threads, % of
    /// the 2-core FMA peak of 425 GFLOP/s).</summary>
    public static int Run(string[] args)
    {
        string kind = args[0];
        var (b, s) = args.Length > 1 && args[1].Contains('x') ? Engines.ParseShape(args[1]) : (1, 128);
        int reps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 15;
        if (kind == "gemm") return Gemm1024(reps);
        var load = Stopwatch.StartNew();
        var model = Engines.Gpt2(Engine.Managed);
        double loadMs = load.Elapsed.TotalMilliseconds;
        using var tokens = Engines.Tokens(model, b, s);
        Action step = kind switch
        {
            "fwd" or "first5" => () => { using var scope = Tensor.Scope(); using var ng = GradMode.NoGrad(); model.Forward(tokens); },
            "cache" => () => { using var scope = Tensor.Scope(); using var ng = GradMode.NoGrad(); var (_, c) = model.RunWithCache(tokens); c.Dispose(); },
            "fwdbwd" => FwdBwd(model, tokens),
            "gen" => () => { using var scope = Tensor.Scope(); model.Generate(tokens.Narrow(1, 0, 16), new GenerateOptions { MaxNewTokens = 32, UseKvCache = true, DoSample = false, StopAtEos = false }); },
            _ => throw new ArgumentException($"unknown case '{kind}': fwd, cache, fwdbwd, gen, first5, gemm"),
        };
        if (kind == "fwdbwd") model.SetRequiresGrad(true);
        var first = new List<double>();
        if (kind == "first5")
        {
            for (int i = 0; i < 5; i++) first.Add(Time(step));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load {loadMs:F0} ms; first five forwards: {string.Join(", ", first.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))} ms"));
        }
        else Time(step); // warm-up
        var times = new List<double>();
        for (int i = 0; i < reps; i++) times.Add(Time(step));
        double median = Median(times);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"times: {string.Join(", ", times.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))} ms"));
        string extra = first.Count > 0 ? string.Create(CultureInfo.InvariantCulture, $" | worst of first five / steady median {first.Max() / median:F2}") : "";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT ours {kind} {b}x{s} | median {median:F1} ms | min {times.Min():F1} | max {times.Max():F1} | IQR {Quantile(times, 0.75) - Quantile(times, 0.25):F1}{extra}"));
        return 0;
    }

    private static Action FwdBwd(HookedTransformer model, Tensor tokens) => () =>
    {
        using var scope = Tensor.Scope();
        var loss = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss });
        loss.Backward();
        model.ZeroGrad();
    };

    private static int Gemm1024(int reps)
    {
        const int n = 1024;
        using var a = Tensor.Randn([n, n], new Generator(1));
        using var w = Tensor.Randn([n, n], new Generator(2));
        var times = new List<double>();
        for (int i = 0; i <= reps; i++)
        {
            double t = Time(() => { using var scope = Tensor.Scope(); a.MatMul(w); });
            if (i > 0) times.Add(t);
        }
        double gflops = 2.0 * n * n * n / (Median(times) * 1e6);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT ours gemm 1024^3 | Environment.ProcessorCount {Environment.ProcessorCount} | median {Median(times):F2} ms | {gflops:F0} GFLOP/s | {100 * gflops / 425:F0}% of the 2-core FMA peak (425) | min {times.Min():F2} | max {times.Max():F2}"));
        return 0;
    }

    private static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> v) => Quantile(v, 0.5);

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
