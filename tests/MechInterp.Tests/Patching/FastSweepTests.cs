using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>The fast sweep (start at the patched layer, many cells per batched pass) gives the numbers of the naive loop
/// (one full forward from the tokens per cell), on every kind of site and on both backends.</summary>
public sealed class FastSweepTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    private static readonly PatchingOptions s_naive = new() { MaxTokensPerForward = 1, StartAtPatchedLayer = false, SkipUnchangedCells = false };

    [Theory, MemberData(nameof(Cases))]
    public void BatchedSweepsStartingAtThePatchedLayerEqualTheNaiveLoop(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var sweeps = new (string Name, Func<PatchingOptions, Tensor> Run)[]
        {
            ("resid_pre", opt => ActivationPatching.ResidPre(o.Model, o.Corrupted, clean, o.Metric, opt)),
            ("resid_mid", opt => ActivationPatching.ResidMid(o.Model, o.Corrupted, clean, o.Metric, opt)),
            ("z by pos", opt => ActivationPatching.AttnHeadOutByPos(o.Model, o.Corrupted, clean, o.Metric, opt)),
            ("k by pos", opt => ActivationPatching.AttnHeadKByPos(o.Model, o.Corrupted, clean, o.Metric, opt)),
            ("pattern by dest", opt => ActivationPatching.AttnHeadPatternByPos(o.Model, o.Corrupted, clean, o.Metric, opt)),
            ("mlp_out", opt => ActivationPatching.MlpOut(o.Model, o.Corrupted, clean, o.Metric, opt)),
        };
        foreach (var (name, run) in sweeps)
        {
            var naive = run(s_naive).ToArray<float>();
            foreach (var fast in new[] { PatchingOptions.Default, new PatchingOptions { MaxTokensPerForward = 3 * 24, SkipUnchangedCells = false }, new PatchingOptions { MetricPositions = [^1] } })
            {
                var got = run(fast).ToArray<float>();
                double worst = naive.Zip(got, (a, b) => (double)Math.Abs(a - b)).Max();
                output.WriteLine($"{name} ({fast.MaxTokensPerForward} tokens per pass, logits at {(fast.MetricPositions is null ? "all positions" : "the last")}): max |fast - naive| = {worst:E2}");
                // Rows of a batch never mix and layers before the patch are the base run's own: the managed backend gives the
                // same bits; libtorch may pick other GEMM blockings for other batch sizes, so it gets float32 rounding room.
                Assert.True(device == "cpu" ? worst == 0 : worst <= 2e-6, $"{name}: fast and naive sweeps differ by {worst:E2}");
            }
            Assert.True(naive.Max() - naive.Min() > 1e-3, $"{name}: the sweep must vary for the comparison to mean anything");
        }
    }

    [Fact]
    public void CellsThatWriteTheBaseValuesAreSkippedWithTheBaseMetric()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        int passes = 0;
        var counter = new HookContext().AddObserver(o.Model.GetHookPoint("hook_embed"), (_, _) => passes++);
        Tensor skipped;
        using (counter.Activate())
            skipped = ActivationPatching.ResidPre(o.Model, o.Corrupted, clean, o.Metric, new PatchingOptions { StartAtPatchedLayer = false, MaxTokensPerForward = 24 });
        // At layer 0 the residual differs only where a token does (positions 2, 4, 10); at layer 1 from the first of them
        // on (2..11). Only those cells run, one pass each here, plus the one base pass.
        var tokensDiffer = Enumerable.Range(0, 12).Count(p => o.Clean[.., p].ToArray<long>().Zip(o.Corrupted[.., p].ToArray<long>()).Any(t => t.First != t.Second));
        int layer1Runs = 12 - 2;
        Assert.Equal(1 + tokensDiffer + layer1Runs, passes);
        var naive = ActivationPatching.ResidPre(o.Model, o.Corrupted, clean, o.Metric, s_naive);
        Assert.Equal(naive.ToArray<float>(), skipped.ToArray<float>());
    }

    [Fact]
    public void ProgressCountsEveryCellAndCellsOfLaterLayersNeverRunEarlierOnes()
    {
        using var o = new PatchingOracle("gpt2-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var reports = new List<PatchingProgress>();
        int layerZeroPasses = 0;
        var counter = new HookContext().AddObserver(o.Model.GetHookPoint(ActName.ResidPre(0)), (_, _) => layerZeroPasses++);
        using (counter.Activate())
            ActivationPatching.AttnHeadOutAllPos(o.Model, o.Corrupted, clean, o.Metric,
                new PatchingOptions { Progress = new SynchronousProgress<PatchingProgress>(reports.Add), MaxTokensPerForward = 24 });
        int heads = o.Model.Config.NHeads, cells = o.Model.Config.NLayers * heads;
        Assert.Equal(Enumerable.Range(1, cells), reports.Select(r => r.Done)); // one cell per pass at 24 tokens
        Assert.All(reports, r => Assert.Equal(cells, r.Total));
        Assert.Equal(["blocks.0.attn.hook_z", "blocks.1.attn.hook_z"], reports.Select(r => r.Hook).Distinct());
        // Layer 0 runs once for the base residuals and once per layer-0 cell; layer-1 cells start at layer 1.
        Assert.Equal(1 + heads, layerZeroPasses);
    }

    [Fact]
    public void ACustomMaskCellEqualsTheSameEditThroughRunWithHooks()
    {
        using var o = new PatchingOracle("llama-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        string hook = ActName.MlpPost(1);
        var source = clean[hook]; // [batch, pos, d_mlp]
        var mask = Tensor.Rand(source.Shape, new Generator(7)) < 0.3; // an arbitrary boolean pattern
        var cells = new[] { new PatchCell(hook, mask, source), new PatchCell(hook, !mask, source) };
        var got = ActivationPatching.Run(o.Model, o.Corrupted, cells, o.Metric).ToArray<float>();
        for (int i = 0; i < cells.Length; i++)
        {
            var m = cells[i].Mask;
            float want;
            using (GradMode.NoGrad())
                want = o.Metric(o.Model.RunWithHooks(o.Corrupted, (hook, (x, _) => Tensor.Where(m, source, x)))).Item<float>();
            Assert.Equal(want, got[i], 5);
        }
        Assert.NotEqual(got[0], got[1], 3);
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
