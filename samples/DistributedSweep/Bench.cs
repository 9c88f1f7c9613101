using System.Diagnostics;
using MechInterp.Distributed;
using MechInterp.Distributed.Hosting;
using MechInterp.Distributed.Jobs;

namespace DistributedSweep;

/// <summary>--bench: the single-process sweep against 1..N worker silos, at the chosen unit size and at one cell per
/// unit; the best of <see cref="SweepOptions.Repeats"/> timed runs after one warm-up run (model loads, JIT) each.</summary>
internal static class Bench
{
    public static async Task Run(SweepOptions o, PatchSweepJob job, Func<float[]> single, Func<double> baseForwardMs)
    {
        var reference = single();
        double tSingle = Best(o.Repeats, () => single());
        double forward = Enumerable.Range(0, 5).Min(_ => baseForwardMs());
        Console.WriteLine($"{Environment.ProcessorCount} logical cores; single process: {reference.Length} cells in {tSingle:F1} ms; one base forward pass {forward:F2} ms");
        Console.WriteLine("| cells per unit | worker silos | units | wall ms | vs single | per-unit overhead ms (1 silo) | identical |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|:---:|");
        foreach (int cellsPerUnit in new[] { o.CellsPerUnit, 1 }.Distinct())
        {
            double? oneSilo = null;
            for (int silos = 1; silos <= o.Silos; silos++)
            {
                await using var cluster = await LoopbackCluster.StartAsync(silos).WaitAsync(TimeSpan.FromMinutes(2));
                var j = job with { CellsPerUnit = cellsPerUnit };
                await cluster.Grains.RunSweepAsync(j); // warm-up: every worker loads its replica and JITs
                PatchSweepResult? last = null;
                double best = double.MaxValue;
                for (int r = 0; r < o.Repeats; r++)
                {
                    var watch = Stopwatch.StartNew();
                    last = await cluster.Grains.RunSweepAsync(j);
                    best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
                }
                int units = last!.Status.Units;
                bool identical = reference.AsSpan().SequenceEqual(last.Values);
                oneSilo ??= best;
                string overhead = silos == 1 ? $"{(best - tSingle) / units:F2}" : "";
                Console.WriteLine($"| {cellsPerUnit} | {silos} | {units} | {best:F1} | {best / tSingle:F2}x | {overhead} | {(identical ? "yes" : "NO")} |");
            }
        }
    }

    private static double Best(int repeats, Action run)
    {
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            run();
            best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
        }
        return best;
    }
}
