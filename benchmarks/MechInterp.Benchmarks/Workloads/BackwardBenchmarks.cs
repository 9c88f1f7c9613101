using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>Workload C: forward and backward of the mean next-token loss with respect to every parameter, 8×128 tokens.</summary>
[WorkloadJob]
public class BackwardBenchmarks
{
    private HookedTransformer? _model;
    private Tensor? _tokens;

    /// <summary>The engine.</summary>
    [ParamsSource(typeof(Engines), nameof(Engines.Selected))]
    public Engine Engine { get; set; }

    /// <summary>Loads the model, turns gradients on and makes the tokens.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _model = Engines.Gpt2(Engine);
        _model.SetRequiresGrad(true);
        _tokens = Engines.Tokens(_model, 8, 128);
    }

    /// <summary>Drops the gradients and turns gradient tracking off again for the other workloads.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _model!.ZeroGrad();
        _model.SetRequiresGrad(false);
        _tokens?.Dispose();
    }

    /// <summary>Clears the last call's gradients (untimed) and waits for a quiet machine.</summary>
    [IterationSetup]
    public void Prepare()
    {
        _model!.ZeroGrad();
        QuietMachine.Wait();
    }

    /// <summary>loss = model(tokens, return_type="loss"); loss.backward().</summary>
    [Benchmark]
    public double ForwardBackward()
    {
        using var scope = Tensor.Scope();
        var loss = _model!.Forward(_tokens!, new ForwardOptions { ReturnType = ReturnType.Loss });
        loss.Backward();
        return loss.Item<float>();
    }
}
