using MechInterp.Attribution;
using MechInterp.Patching;
using Xunit;

namespace MechInterp.Tests.Patching;

/// <summary>GradDrop (AtP*'s second fix) by its identities: dropping a layer before a site leaves plain AtP; dropping the
/// last layer leaves resid_pre[L-1] only its direct path to the logits (the gradient at resid_post[L-1]); dropping a
/// head's own layer silences it.</summary>
public sealed class GradDropTests
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    private static void Close(double want, double got, string what) =>
        Assert.True(Math.Abs(got - want) <= 1e-5 + 1e-4 * Math.Abs(want), $"{what}: {got} vs {want}");

    [Theory, MemberData(nameof(Cases))]
    public void DroppedLayersChangeOnlyWhatTheyCarry(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var model = o.Model;
        int layers = model.Config.NLayers;
        long pos = o.Clean.Shape[1];
        var plain = AttributionPatching.ResidPre(model, o.Clean, o.Corrupted, o.Metric).ToArray<float>(); // [layers, pos]
        var (perDrop, combined) = AttributionPatching.GradDrop(model, o.Clean, o.Corrupted, o.Metric, "resid_pre", [PatchAxis.Pos]);
        Assert.Equal(new long[] { layers, layers, pos }, perDrop.Shape);
        var drops = perDrop.ToArray<float>();
        // Dropping layer 0 leaves every later site's gradient as it was.
        for (int l = 1; l < layers; l++)
            for (int p = 0; p < pos; p++) Close(plain[l * pos + p], drops[(0 * layers + l) * pos + p], $"drop 0, site {l}/{p}");

        // Dropping the last layer: resid_pre[L-1] reaches the metric only through the skip connection.
        int last = layers - 1;
        var (grads, acts) = AttributionPatching.Gradients(model, o.Corrupted, o.Metric, [ActName.ResidPost(last), ActName.ResidPre(last)]);
        var (_, clean) = model.RunWithCache(o.Clean);
        var direct = (grads[ActName.ResidPost(last)] * (clean[ActName.ResidPre(last)] - acts[ActName.ResidPre(last)])).Sum([0, 2]).ToArray<double>(); // [pos]
        foreach (var g in grads.Values) g.Dispose();
        double moved = 0;
        for (int p = 0; p < pos; p++)
        {
            Close(direct[p], drops[(last * layers + last) * pos + p], $"drop {last}, site {last}/{p}");
            moved = Math.Max(moved, Math.Abs(direct[p] - plain[last * pos + p]));
        }
        Assert.True(moved > 1e-3, "dropping the last layer must change its resid_pre estimate for the check to mean anything");
        var c = combined.ToArray<float>();
        for (int i = 0; i < c.Length; i++)
        {
            double sum = 0;
            for (int d = 0; d < layers; d++) sum += Math.Abs(drops[d * layers * pos + i]);
            Close(sum / Math.Max(1, layers - 1), c[i], $"combined {i}");
        }
    }

    [Fact]
    public void DroppingAHeadsOwnLayerSilencesIt()
    {
        using var o = new PatchingOracle("llama-tiny", "cpu");
        using var scope = Tensor.Scope();
        var (perDrop, _) = AttributionPatching.GradDrop(o.Model, o.Clean, o.Corrupted, o.Metric, "z", [PatchAxis.Head]);
        int layers = o.Model.Config.NLayers, heads = o.Model.Config.NHeads;
        var drops = perDrop.ToArray<float>(); // [dropped, layers, heads]
        var plain = AttributionPatching.AttnHeadOutAllPos(o.Model, o.Clean, o.Corrupted, o.Metric).ToArray<float>();
        for (int l = 0; l < layers; l++)
            for (int h = 0; h < heads; h++)
                Assert.Equal(0f, drops[(l * layers + l) * heads + h]);
        Assert.Contains(plain, v => Math.Abs(v) > 1e-2);
    }
}
