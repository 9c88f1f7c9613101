using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// The job of the model workloads: in process (libtorch's native libraries load once), 1 warm-up and 5 measured
/// iterations of one call each (the calls take 0.1–10 s), so an <c>[IterationSetup]</c> can wait for a quiet machine
/// before every measured call. Report medians.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class WorkloadJobAttribute : Attribute, IConfigSource
{
    /// <summary>Creates the job (iterations can be changed with MECHINTERP_BENCH_ITERATIONS).</summary>
    public WorkloadJobAttribute()
    {
        int iterations = int.TryParse(Environment.GetEnvironmentVariable("MECHINTERP_BENCH_ITERATIONS"), out var n) && n > 0 ? n : 5;
        var job = new Job("Workload")
            .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true))
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(iterations)
            .WithInvocationCount(1).WithUnrollFactor(1);
        Config = ManualConfig.CreateEmpty().AddJob(job).AddColumn(new OtherLoadColumn());
    }

    /// <inheritdoc/>
    public IConfig Config { get; }
}
