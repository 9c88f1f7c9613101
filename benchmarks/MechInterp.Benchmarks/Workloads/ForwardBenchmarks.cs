using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Workload A: GPT-2 small forward pass to logits (no hooks, no gradient) at 1×128, 8×128 and 1×1024 tokens.</summary>
[WorkloadJob]
public class ForwardBenchmarks
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

    /// <summary>Frees the tokens (the model stays loaded for the next workload).</summary>
    [GlobalCleanup]
    public void Cleanup() => _tokens?.Dispose();

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    /// <summary>logits = model(tokens).</summary>
    [Benchmark]
    public long Forward()
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        return _model!.Forward(_tokens!).NumElements;
    }
}
