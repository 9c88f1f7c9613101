using System.Diagnostics;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// The C# side of <c>../shared/bench/benchutil.py</c>'s <c>wait_quiet</c>: before a timed iteration, waits until other
/// processes use fewer than 0.15 cores (from <c>/proc/stat</c> minus this process's CPU time), up to a limit, so
/// iterations run in the machine's quieter moments. Records the load seen so the report can state it.
/// </summary>
public static class QuietMachine
{
    private static readonly List<double> s_otherCores = [];

    /// <summary>Longest wait before one iteration (seconds); MECHINTERP_BENCH_QUIET_WAIT overrides, 0 disables.</summary>
    public static double MaxWaitSeconds { get; } = double.TryParse(Environment.GetEnvironmentVariable("MECHINTERP_BENCH_QUIET_WAIT"),
        System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 20;

    /// <summary>Waits for a quiet moment (or <see cref="MaxWaitSeconds"/>); returns the other processes' load last seen, in cores.</summary>
    public static double Wait(double threshold = 0.15)
    {
        if (MaxWaitSeconds <= 0 || !File.Exists("/proc/stat")) return double.NaN;
        var sw = Stopwatch.StartNew();
        double load;
        do load = OtherCores(0.3);
        while (load >= threshold && sw.Elapsed.TotalSeconds < MaxWaitSeconds);
        lock (s_otherCores) s_otherCores.Add(load);
        return load;
    }

    /// <summary>Median of the loads seen before iterations so far (cores used by other processes).</summary>
    public static double MedianLoad()
    {
        lock (s_otherCores)
        {
            if (s_otherCores.Count == 0) return double.NaN;
            var sorted = s_otherCores.Order().ToArray();
            return sorted[sorted.Length / 2];
        }
    }

    /// <summary>Average cores used by other processes over <paramref name="windowSeconds"/>.</summary>
    public static double OtherCores(double windowSeconds)
    {
        double b0 = TotalBusySeconds(), s0 = SelfCpuSeconds();
        Thread.Sleep(TimeSpan.FromSeconds(windowSeconds));
        double b1 = TotalBusySeconds(), s1 = SelfCpuSeconds();
        return Math.Max(0, (b1 - b0) - (s1 - s0)) / windowSeconds;
    }

    private static double TotalBusySeconds()
    {
        using var reader = new StreamReader("/proc/stat");
        var fields = reader.ReadLine()!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        // user nice system idle iowait irq softirq steal
        long busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7];
        return busy / 100.0; // USER_HZ is 100 on Linux
    }

    private static double SelfCpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
}
