using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>Exact properties of patching (the oracle README's checks): a run's own cache changes nothing; resid_pre at
/// layer 0 at every position is the source run; all heads' z is attn_out.</summary>
public sealed class PatchingInvariantTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    [Theory, MemberData(nameof(Cases))]
    public void PatchingARunWithItsOwnCacheChangesNothing(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (logits, own) = o.Model.RunWithCache(o.Corrupted);
        float plain = o.Metric(logits).Item<float>();
        var run = new PatchingOptions { SkipUnchangedCells = false }; // really run the patched passes
        foreach (var sweep in new[]
                 {
                     ActivationPatching.ResidPre(o.Model, o.Corrupted, own, o.Metric, run), ActivationPatching.MlpOut(o.Model, o.Corrupted, own, o.Metric, run),
                     ActivationPatching.AttnHeadOutByPos(o.Model, o.Corrupted, own, o.Metric, run), ActivationPatching.AttnHeadPatternAllPos(o.Model, o.Corrupted, own, o.Metric, run),
                     ActivationPatching.ResidPre(o.Model, o.Corrupted, own, o.Metric),
                 })
        {
            double worst = sweep.ToArray<float>().Max(v => Math.Abs(v - plain));
            output.WriteLine($"{Tensor.ShapeString(sweep.Shape)}: max |patched - plain| = {worst:E2}");
            Assert.True(worst <= 1e-5, $"own-cache patching moved the metric by {worst:E2}");
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void ResidPreAtLayerZeroAtEveryPositionReproducesTheSourceRun(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var (_, corrupted) = o.Model.RunWithCache(o.Corrupted);
        float denoised = ActivationPatching.Patch(o.Model, o.Corrupted, clean, ActName.ResidPre(0), null, o.Metric);
        float noised = ActivationPatching.Patch(o.Model, o.Clean, corrupted, ActName.ResidPre(0), null, o.Metric);
        Assert.True(Math.Abs(denoised - o.CleanMetric) <= 1e-5, $"denoised {denoised} vs clean {o.CleanMetric}");
        Assert.True(Math.Abs(noised - o.CorruptedMetric) <= 1e-5, $"noised {noised} vs corrupted {o.CorruptedMetric}");
        // Positions before the first corrupted one (2) carry nothing yet: patching them gives the base metric at every layer.
        var sweep = ActivationPatching.ResidPre(o.Model, o.Corrupted, clean, o.Metric).ToArray<float>();
        long pos = o.Clean.Shape[1];
        for (int l = 0; l < o.Model.Config.NLayers; l++)
            for (int p = 0; p < 2; p++)
                Assert.True(Math.Abs(sweep[l * pos + p] - o.CorruptedMetric) <= 1e-5, $"layer {l} pos {p}: {sweep[l * pos + p]}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void PatchingEveryHeadsZEqualsPatchingAttnOut(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        for (int l = 0; l < o.Model.Config.NLayers; l++)
        {
            float z = ActivationPatching.Patch(o.Model, o.Corrupted, clean, ActName.Z(l), null, o.Metric);
            float attnOut = ActivationPatching.Patch(o.Model, o.Corrupted, clean, ActName.AttnOut(l), null, o.Metric);
            output.WriteLine($"layer {l}: z {z:R}, attn_out {attnOut:R}");
            Assert.True(Math.Abs(z - attnOut) <= 1e-5, $"layer {l}: all heads' z {z} vs attn_out {attnOut}");
            Assert.True(Math.Abs(z - o.CorruptedMetric) > 1e-3, "the patch must matter for the check to mean anything");
        }
    }
}
