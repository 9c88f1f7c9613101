using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Workload D: greedy generation of 32 new tokens from a 16-token prompt, with the key/value cache and without
/// it (each step re-runs the whole sequence), for the tokens/s ratio.</summary>
[WorkloadJob]
public class GenerateBenchmarks
{
    /// <summary>Prompt length.</summary>
    public const int PromptLength = 16;
    /// <summary>New tokens per call.</summary>
    public const int NewTokens = 32;

    private HookedTransformer? _model;
    private Tensor? _prompt;

    /// <summary>The engine.</summary>
    [ParamsSource(typeof(Engines), nameof(Engines.Selected))]
    public Engine Engine { get; set; }

    /// <summary>Whether generation keeps a key/value cache.</summary>
    [Params(true, false)]
    public bool KvCache { get; set; }

    /// <summary>Loads the model and makes the prompt.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _model = Engines.Gpt2(Engine);
        _prompt = Engines.Tokens(_model, 1, PromptLength, seed: 3);
    }

    /// <summary>Frees the prompt.</summary>
    [GlobalCleanup]
    public void Cleanup() => _prompt?.Dispose();

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    /// <summary>model.Generate(prompt, max_new_tokens: 32, greedy).</summary>
    [Benchmark]
    public long Generate()
    {
        using var scope = Tensor.Scope();
        var output = _model!.Generate(_prompt!, new GenerateOptions { MaxNewTokens = NewTokens, UseKvCache = KvCache, DoSample = false, StopAtEos = false });
        return output.Shape[1];
    }
}
