using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Peak memory of workload B (RunWithCache of every hook). Each (engine, shape) runs in a fresh child process
/// (<c>MechInterp.Benchmarks --peak-memory</c>) so no other workload's memory counts: the child records its resident
/// set before loading the model (runtime and, for libtorch, its native libraries), loads the model, runs
/// RunWithCache once to warm up, resets the kernel's peak-RSS counter (<c>/proc/self/clear_refs</c>), runs it again
/// holding the cache, and reports the peak resident set against weights + cached activations.
/// </summary>
public static class PeakMemoryProbe
{
    /// <summary>The command-line switch that selects this probe.</summary>
    public const string Switch = "--peak-memory";

    /// <summary>Without arguments: runs every (engine, shape) in a child process and prints a table. With "ENGINE SHAPE":
    /// measures that case in this process and prints one line.</summary>
    public static int Run(string[] args)
    {
        if (args.Length >= 2) return Measure(Enum.Parse<Engine>(args[0]), args[1]);
        Console.WriteLine("| engine | shape | baseline RSS MB | + weights MB | cache MB (entries) | peak RSS MB | peak - baseline MB | (peak - baseline) / (weights + cache) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var engine in new[] { Engine.Managed, Engine.Libtorch })
            foreach (var shape in new[] { "1x128", "8x128", "1x1024" })
            {
                var (line, exit) = ProbeProcess.RunSelf(Switch, engine.ToString(), shape);
                Console.WriteLine(line ?? $"| {engine} | {shape} | failed (exit {exit}) |");
            }
        return 0;
    }

    private static int Measure(Engine engine, string shape)
    {
        var device = Engines.DeviceOf(engine);
        using (Tensor.Zeros([1], device: device)) { } // load the backend (libtorch's libraries) before the baseline
        double baseline = ProbeProcess.StatusMb("VmRSS");
        var model = Engines.Gpt2(engine);
        double afterModel = ProbeProcess.StatusMb("VmRSS");
        double weightsMb = model.Parameters().Sum(t => t.NumElements * 4.0) / (1 << 20);
        var (b, s) = Engines.ParseShape(shape);
        using var tokens = Engines.Tokens(model, b, s);
        using (Tensor.Scope())
        {
            var (_, warm) = model.RunWithCache(tokens);
            warm.Dispose();
        }
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5");
        double cacheMb;
        int entries;
        using (Tensor.Scope())
        {
            var (logits, cache) = model.RunWithCache(tokens);
            entries = cache.Count;
            cacheMb = cache.Keys.Sum(k => cache[k].NumElements * 4.0) / (1 << 20);
            GC.KeepAlive(logits);
            cache.Dispose();
        }
        double peak = ProbeProcess.StatusMb("VmHWM");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {engine} | {shape} | {baseline:F0} | {afterModel - baseline:F0} (params {weightsMb:F0}) | {cacheMb:F0} ({entries}) | {peak:F0} | {peak - baseline:F0} | {(peak - baseline) / (weightsMb + cacheMb):F2} |"));
        return 0;
    }

}
