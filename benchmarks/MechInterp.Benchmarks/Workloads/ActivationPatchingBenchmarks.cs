using BenchmarkDotNet.Attributes;
using MechInterp.Attribution;
using MechInterp.Patching;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// The library's own sweeps against the PyTorch peer's <c>--case patch_resid --seq 20</c> and <c>--case atp --seq 20</c>
/// (../shared/bench/gpt2_tl_bench.py): GPT-2 small, one 20-token prompt and its copy with position 10 changed, metric =
/// logit difference of tokens 11 and 12 at the last position. Each call includes the clean run's cache, as the peer's does.
/// <c>ActivationPatching.ResidPre</c> runs the 240 (layer, position) cells batched, each from its own layer;
/// the peer runs 240 full forwards.
/// </summary>
[WorkloadJob]
public class ActivationPatchingBenchmarks
{
    /// <summary>Prompt length.</summary>
    public const int Positions = 20;

    private HookedTransformer? _model;
    private Tensor? _clean, _corrupted;
    private readonly Func<Tensor, Tensor> _metric = PatchingMetrics.LogitDifference([11], [12]);

    /// <summary>The engine.</summary>
    [ParamsSource(typeof(Engines), nameof(Engines.Selected))]
    public Engine Engine { get; set; }

    /// <summary>Loads the model and makes the two prompts.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _model = Engines.Gpt2(Engine);
        _clean = Engines.Tokens(_model, 1, Positions, seed: 3);
        var ids = _clean.ToArray<long>();
        ids[Positions / 2] = (ids[Positions / 2] + 1) % Gpt2SmallCheckpoint.Vocab;
        _corrupted = Tensor.FromArray(ids, 1, Positions).To(_model.Device).DetachFromScopes();
    }

    /// <summary>Frees the prompts.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _clean?.Dispose();
        _corrupted?.Dispose();
    }

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    /// <summary>Clean cache, then <c>ActivationPatching.ResidPre</c> with default options → [12, 20].</summary>
    [Benchmark]
    public float[] ResidPre() => Sweep(PatchingOptions.Default);

    /// <summary>The same with the metric's positions declared (the unembedding runs at the last position only).</summary>
    [Benchmark]
    public float[] ResidPreLastPosition() => Sweep(new PatchingOptions { MetricPositions = [^1] });

    /// <summary><c>AttributionPatching.ResidPre</c> → [12, 20] (clean forward, corrupted forward and backward).</summary>
    [Benchmark]
    public float[] AttributionResidPre()
    {
        using var scope = Tensor.Scope();
        return AttributionPatching.ResidPre(_model!, _clean!, _corrupted!, _metric).ToArray<float>();
    }

    private float[] Sweep(PatchingOptions options)
    {
        using var scope = Tensor.Scope();
        var (_, cache) = _model!.RunWithCache(_clean!, name => name.EndsWith(".hook_resid_pre", StringComparison.Ordinal));
        using var _ = cache;
        return ActivationPatching.ResidPre(_model!, _corrupted!, cache, _metric, options).ToArray<float>();
    }
}
