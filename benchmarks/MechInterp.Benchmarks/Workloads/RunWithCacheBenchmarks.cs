using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Workload B: <c>RunWithCache</c> of every hook point (TransformerLens's 208 for GPT-2 small) at the shapes of
/// workload A; the cache is disposed after each call. Peak memory is measured separately (<see cref="PeakMemoryProbe"/>).</summary>
[WorkloadJob]
public class RunWithCacheBenchmarks
{
    private HookedTransformer? _model;
    private Tensor? _tokens;

    /// <summary>The engine.</summary>
    [Params(Engine.Managed, Engine.Libtorch)]
    public Engine Engine { get; set; }

    /// <summary>Batch × positions.</summary>
    [Params("1x128", "8x128", "1x1024")]
    public string Shape { get; set; } = "1x128";

    /// <summary>Loads the model (once per engine) and makes the tokens.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _model = Engines.Gpt2(Engine);
        var (b, s) = Engines.ParseShape(Shape);
        _tokens = Engines.Tokens(_model, b, s);
    }

    /// <summary>Frees the tokens.</summary>
    [GlobalCleanup]
    public void Cleanup() => _tokens?.Dispose();

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    /// <summary>(logits, cache) = model.RunWithCache(tokens); returns the number of cached entries.</summary>
    [Benchmark]
    public int RunWithCache()
    {
        using var scope = Tensor.Scope();
        var (_, cache) = _model!.RunWithCache(_tokens!);
        using (cache) return cache.Count;
    }
}
