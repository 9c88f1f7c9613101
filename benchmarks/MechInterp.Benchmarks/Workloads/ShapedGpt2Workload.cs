using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Shared set-up of the workloads that run GPT-2 small on batch × positions tokens (A and B): the engine and
/// shape parameters, the loaded model and the tokens, and the quiet-machine wait before each measured call.</summary>
public abstract class ShapedGpt2Workload
{
    /// <summary>The loaded model.</summary>
    protected HookedTransformer Model { get; private set; } = null!;

    /// <summary>The input tokens [batch, positions].</summary>
    protected Tensor Tokens { get; private set; } = null!;

    /// <summary>The engine.</summary>
    [ParamsSource(typeof(Engines), nameof(Engines.Selected))]
    public Engine Engine { get; set; }

    /// <summary>Batch × positions.</summary>
    [Params("1x128", "8x128", "1x1024")]
    public string Shape { get; set; } = "1x128";

    /// <summary>Loads the model (once per engine) and makes the tokens.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Model = Engines.Gpt2(Engine);
        var (b, s) = Engines.ParseShape(Shape);
        Tokens = Engines.Tokens(Model, b, s);
    }

    /// <summary>Frees the tokens (the model stays loaded for the next workload).</summary>
    [GlobalCleanup]
    public void Cleanup() => Tokens?.Dispose();

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();
}
