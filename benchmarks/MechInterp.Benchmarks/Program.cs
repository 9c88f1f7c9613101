using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace MechInterp.Benchmarks;

/// <summary>Entry point: BenchmarkDotNet's switcher over this assembly, with median and GFLOP/s columns.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected by the command line (see docs/benchmarks.md for the exact command).</summary>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == Workloads.PeakMemoryProbe.Switch)
        {
            Environment.ExitCode = Workloads.PeakMemoryProbe.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == Workloads.LoadMemoryProbe.Switch)
        {
            Environment.ExitCode = Workloads.LoadMemoryProbe.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == Workloads.ComponentProfile.Switch)
        {
            Environment.ExitCode = Workloads.ComponentProfile.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == Workloads.CacheOverheadProbe.Switch)
        {
            Environment.ExitCode = Workloads.CacheOverheadProbe.Run(args[1..]);
            return;
        }
        if (args.Length > 0 && args[0] == Workloads.Issue16Probe.Switch)
        {
            Environment.ExitCode = Workloads.Issue16Probe.Run(args[1..]);
            return;
        }
        var config = DefaultConfig.Instance.AddColumn(StatisticColumn.Median, new GflopsColumn());
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
