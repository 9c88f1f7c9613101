using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Workload B: <c>RunWithCache</c> of every hook point (TransformerLens's 208 for GPT-2 small) at the shapes of
/// workload A; the cache is disposed after each call. Peak memory is measured separately (<see cref="PeakMemoryProbe"/>).</summary>
[WorkloadJob]
public class RunWithCacheBenchmarks : ShapedGpt2Workload
{
    /// <summary>(logits, cache) = model.RunWithCache(tokens); returns the number of cached entries.</summary>
    [Benchmark]
    public int RunWithCache()
    {
        using var scope = Tensor.Scope();
        var (_, cache) = Model.RunWithCache(Tokens);
        using (cache) return cache.Count;
    }
}
