using System.Diagnostics;
using System.Globalization;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Loading GPT-2 small on the managed engine with memory-mapped weights on and off
/// (<see cref="LoadOptions.MemoryMapWeights"/>), without weight processing and with TransformerLens's default
/// processing (fold LN, center writing weights, center unembed, fold value biases). Each case runs in a fresh child
/// process (<c>MechInterp.Benchmarks --load-memory</c>) that reports: load time; resident set after load (VmRSS) split
/// into private memory (RssAnon) and file pages (RssFile: mapped checkpoint pages, shared with the page cache and
/// reclaimable); the peak resident set during the load (VmHWM after resetting it); the parameters left mapped; and the
/// median of workload A (logits of 1×128 tokens) over timed runs after warm-up. The checkpoint's pages are in the page
/// cache (the first child reads them), so load times are warm-cache times.
/// </summary>
public static class LoadMemoryProbe
{
    /// <summary>The command-line switch that selects this probe.</summary>
    public const string Switch = "--load-memory";

    /// <summary>Without arguments: every case, <c>repeats</c> children each, as a table. With "MAP PROCESSING": one
    /// case in this process, one line.</summary>
    public static int Run(string[] args)
    {
        if (args.Length >= 2) return Measure(args[0] == "map", args[1] == "default");
        int repeats = args.Length == 1 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        Gpt2SmallCheckpoint.EnsureWritten();
        Console.WriteLine("| weights | processing | load s | VmRSS after load MB | RssAnon MB | RssFile MB | peak RSS during load MB | mapped params MB | A 1x128 median ms | load avg (1 min) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (int r = 0; r < repeats; r++)
            foreach (var processing in new[] { "none", "default" })
                foreach (var map in new[] { "map", "copy" })
                {
                    var (line, exit) = ProbeProcess.RunSelf(Switch, map, processing);
                    Console.WriteLine(line ?? $"| {map} | {processing} | failed (exit {exit}) |");
                }
        return 0;
    }

    private static int Measure(bool map, bool processed)
    {
        using (Tensor.Zeros([1])) { }
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5");
        var options = new LoadOptions
        {
            MemoryMapWeights = map,
            FoldLayerNorm = processed, CenterWritingWeights = processed, CenterUnembed = processed, FoldValueBiases = processed,
        };
        var watch = Stopwatch.StartNew();
        using var model = HookedTransformer.FromPretrained(Gpt2SmallCheckpoint.EnsureWritten(), options);
        double loadS = watch.Elapsed.TotalSeconds;
        double peak = ProbeProcess.StatusMb("VmHWM"), rss = ProbeProcess.StatusMb("VmRSS"), anon = ProbeProcess.StatusMb("RssAnon"), file = ProbeProcess.StatusMb("RssFile");
        double mappedMb = model.Parameters().Where(SafeTensorsFile.IsMapped).Sum(t => t.NumElements * 4.0) / (1 << 20);
        using var tokens = Engines.Tokens(model, 1, 128);
        var times = new List<double>();
        for (int i = 0; i < 13; i++)
        {
            var t = Stopwatch.StartNew();
            using (Tensor.Scope()) model.Forward(tokens);
            if (i >= 3) times.Add(t.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        double median = (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
        string load = File.ReadAllText("/proc/loadavg").Split(' ')[0];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {(map ? "mapped" : "copied")} | {(processed ? "default" : "none")} | {loadS:F2} | {rss:F0} | {anon:F0} | {file:F0} | {peak:F0} | {mappedMb:F0} | {median:F1} | {load} |"));
        return 0;
    }

}
