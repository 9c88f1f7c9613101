using BenchmarkDotNet.Attributes;
using MechInterp.Optim;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Workload F: a ReLU sparse autoencoder 768 → 24576 (SAELens's standard architecture, as in
/// <c>../shared/bench/sae_bench.py</c>) on 4096 activations: <c>f = relu((x − b_dec)·W_enc + b_enc)</c>,
/// <c>x̂ = f·W_dec + b_dec</c>; encode+decode, and one Adam step on <c>mean ‖x̂ − x‖² + 5·mean Σ|f|</c>.
/// </summary>
[WorkloadJob]
public class SaeBenchmarks
{
    /// <summary>Activations per batch.</summary>
    public const int Batch = 4096;
    /// <summary>Input width.</summary>
    public const int DIn = 768;
    /// <summary>Dictionary size (expansion 32).</summary>
    public const int DSae = DIn * 32;
    /// <summary>L1 coefficient.</summary>
    public const double L1 = 5.0;

    private Tensor? _wEnc, _wDec, _bEnc, _bDec, _x;
    private Adam? _adam;

    /// <summary>The engine.</summary>
    [ParamsSource(typeof(Engines), nameof(Engines.Selected))]
    public Engine Engine { get; set; }

    /// <summary>Creates the SAE parameters, the activations and the optimizer.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var device = Engines.DeviceOf(Engine);
        var gen = new Generator(0);
        using (GradMode.NoGrad())
        {
            _wEnc = Tensor.Randn([DIn, DSae], gen, std: 1 / Math.Sqrt(DIn), device: device).DetachFromScopes();
            _wDec = (_wEnc.T.Contiguous() * 0.1).DetachFromScopes();
            _bEnc = Tensor.Zeros([DSae], device: device).DetachFromScopes();
            _bDec = Tensor.Zeros([DIn], device: device).DetachFromScopes();
            _x = Tensor.Randn([Batch, DIn], gen, device: device).DetachFromScopes();
        }
        foreach (var p in Parameters) p.RequiresGrad_();
        _adam = new Adam(Parameters, learningRate: 1e-4);
    }

    private Tensor[] Parameters => [_wEnc!, _wDec!, _bEnc!, _bDec!];

    /// <summary>Frees everything.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var p in Parameters) { p.ZeroGrad(); p.Dispose(); }
        _x?.Dispose();
    }

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    private (Tensor F, Tensor XHat) Forward()
    {
        var f = ((_x! - _bDec!).MatMul(_wEnc!) + _bEnc!).Relu();
        return (f, f.MatMul(_wDec!) + _bDec!);
    }

    /// <summary>Encode and decode the batch (no gradient).</summary>
    [Benchmark]
    public long EncodeDecode()
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        var (f, xHat) = Forward();
        return f.NumElements + xHat.NumElements;
    }

    /// <summary>One training step: zero grads, forward, MSE + L1 loss, backward, Adam.</summary>
    [Benchmark]
    public double TrainStep()
    {
        using var scope = Tensor.Scope();
        _adam!.ZeroGrad();
        var (f, xHat) = Forward();
        var loss = (xHat - _x!).Square().Sum(-1).Mean() + f.Abs().Sum(-1).Mean() * L1;
        loss.Backward();
        _adam.Step();
        return loss.Item<float>();
    }
}
