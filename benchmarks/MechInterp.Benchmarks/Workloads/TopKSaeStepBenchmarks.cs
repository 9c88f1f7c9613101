using BenchmarkDotNet.Attributes;
using MechInterp.Saes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// The TopK SAE training step of the SAE issue (item 8) against <c>../shared/bench/sae_bench.py --case train --arch topk
/// --k 32</c>: 4096 activations, 768 → 24576, k = 32, one Adam step on the MSE, through the library's own
/// <see cref="SaeTrainer"/> (TopK decodes by gathering the k decoder rows of each row and its decoder gradient touches
/// only those rows). The peer scatters into a dense [4096, 24576] f and decodes it densely, as SAELens does.
/// </summary>
[WorkloadJob]
public class TopKSaeStepBenchmarks
{
    private Tensor? _x;
    private SaeTrainer? _trainer;

    /// <summary>The engine.</summary>
    [Params(Engine.Managed)]
    public Engine Engine { get; set; }

    /// <summary>Creates the SAE, its trainer and the activations.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var device = Engines.DeviceOf(Engine);
        var config = new SaeConfig { Architecture = "topk", DIn = SaeBenchmarks.DIn, DSae = SaeBenchmarks.DSae, K = 32 };
        var sae = SaeInitialization.Create(config, new Generator(0), device);
        _trainer = new SaeTrainer(sae, new SaeTrainerOptions { TotalSteps = 1_000_000, LearningRate = 1e-4, ReportEvery = 1_000_000 });
        using (GradMode.NoGrad())
            _x = Tensor.Randn([SaeBenchmarks.Batch, SaeBenchmarks.DIn], new Generator(1), device: device).DetachFromScopes();
    }

    /// <summary>Frees the activations.</summary>
    [GlobalCleanup]
    public void Cleanup() => _x?.Dispose();

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    /// <summary>One SaeTrainer step: TopK encode, sparse decode, MSE, backward, Adam.</summary>
    [Benchmark]
    public double TrainStep() => _trainer!.Step(_x!).Loss;
}
