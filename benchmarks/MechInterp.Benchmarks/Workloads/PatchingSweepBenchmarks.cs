using BenchmarkDotNet.Attributes;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// Workload E: a residual-stream activation patching sweep over 12 layers × 16 positions of a 16-token prompt. One clean
/// run caches every <c>blocks.{l}.hook_resid_pre</c>; then the 192 (layer, position) patches run batched, 64 per forward
/// pass (rows = 4 layers × 16 positions of the corrupted prompt): the hook at layer l replaces, in the rows assigned to
/// layer l, position p's residual with the clean run's. The metric is the logit difference of two tokens at the last
/// position, giving a [12, 16] result as in TransformerLens's <c>patching.get_act_patch_resid_pre</c>.
/// </summary>
[WorkloadJob]
public class PatchingSweepBenchmarks
{
    /// <summary>Prompt length (= positions swept).</summary>
    public const int Positions = 16;
    /// <summary>Patches per forward pass.</summary>
    public const int RowsPerPass = 64;

    private HookedTransformer? _model;
    private Tensor? _clean, _corrupted;
    private readonly List<Tensor> _owned = [];
    private (int Layer, Tensor Mask)[][] _passMasks = [];
    private const int AnswerToken = 1000, WrongToken = 2000;

    /// <summary>The engine.</summary>
    [ParamsSource(typeof(Engines), nameof(Engines.Selected))]
    public Engine Engine { get; set; }

    /// <summary>Loads the model, makes clean and corrupted prompts and each pass's per-layer patch masks.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _model = Engines.Gpt2(Engine);
        _clean = Engines.Tokens(_model, 1, Positions, seed: 5);
        var ids = _clean.ToArray<long>();
        ids[3] = (ids[3] + 17) % Gpt2SmallCheckpoint.Vocab; // corrupt two positions (as swapping names in IOI)
        ids[9] = (ids[9] + 29) % Gpt2SmallCheckpoint.Vocab;
        _corrupted = Tensor.FromArray(ids, 1, Positions).To(_model.Device).DetachFromScopes();
        int layers = _model.Config.NLayers, combos = layers * Positions, passes = (combos + RowsPerPass - 1) / RowsPerPass;
        _passMasks = new (int, Tensor)[passes][];
        for (int pass = 0; pass < passes; pass++)
        {
            var perLayer = new List<(int, Tensor)>();
            for (int l = 0; l < layers; l++)
            {
                var mask = new bool[RowsPerPass * Positions];
                bool any = false;
                for (int r = 0; r < RowsPerPass; r++)
                {
                    int combo = pass * RowsPerPass + r;
                    if (combo >= combos || combo / Positions != l) continue;
                    mask[r * Positions + combo % Positions] = true;
                    any = true;
                }
                if (!any) continue;
                var t = Tensor.FromArray(mask, RowsPerPass, Positions, 1).To(_model.Device).DetachFromScopes();
                _owned.Add(t);
                perLayer.Add((l, t));
            }
            _passMasks[pass] = [.. perLayer];
        }
    }

    /// <summary>Frees the prompts and masks.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _clean?.Dispose(); _corrupted?.Dispose();
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }

    /// <summary>Waits for a quiet machine before each measured call.</summary>
    [IterationSetup]
    public void WaitQuiet() => QuietMachine.Wait();

    /// <summary>The whole sweep: clean run with cache, then the batched patched runs; returns the [12, 16] logit differences.</summary>
    [Benchmark]
    public float[] Sweep() => Run(_model!, _clean!, _corrupted!, _passMasks);

    /// <summary>The sweep itself (also used by tests of the harness): results in (layer, position) order.</summary>
    public static float[] Run(HookedTransformer model, Tensor clean, Tensor corrupted, (int Layer, Tensor Mask)[][] passMasks)
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        var (_, cache) = model.RunWithCache(clean, name => name.EndsWith(".hook_resid_pre", StringComparison.Ordinal));
        using var _ = cache;
        var batch = corrupted.Expand(RowsPerPass, Positions);
        var results = new List<float>();
        int combos = model.Config.NLayers * Positions;
        foreach (var pass in passMasks)
        {
            var hooks = pass.Select(lm =>
            {
                var cleanResid = cache[$"blocks.{lm.Layer}.hook_resid_pre"];
                return new HookSpec($"blocks.{lm.Layer}.hook_resid_pre", (x, _) => Tensor.Where(lm.Mask, cleanResid, x));
            }).ToArray();
            var logits = model.RunWithHooks(batch, hooks);
            var last = logits.Select(1, Positions - 1);
            var diff = last.Select(1, AnswerToken) - last.Select(1, WrongToken);
            results.AddRange(diff.ToArray<float>());
        }
        return results.Take(combos).ToArray();
    }
}
