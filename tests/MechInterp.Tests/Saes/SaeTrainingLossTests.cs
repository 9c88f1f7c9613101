using System.Text.Json;
using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>One training forward pass per stored SAELens run (train.&lt;tag&gt;.* of each fixture): every loss
/// component within rtol 1e-5 of SAELens's, on both backends; BatchTopK's training-mode outputs and threshold update.</summary>
public class SaeTrainingLossTests
{
    private const double Rtol = 1e-5;

    public static TheoryData<string, string, string> Runs()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var folder in SaeFixtures.Folders)
        {
            using var r = SaeFixtures.Reference(folder);
            if (!r.Json.TryGetProperty("train", out var train)) continue;
            foreach (var run in train.EnumerateArray())
                foreach (var d in SaeFixtures.Devices) data.Add(folder, run.GetProperty("tag").GetString()!, d.ToString());
        }
        return data;
    }

    private static double Hyper(JsonElement run, string name, double fallback) =>
        run.GetProperty("hyperparameters").TryGetProperty(name, out var v) ? v.GetDouble() : fallback;

    [Theory]
    [MemberData(nameof(Runs))]
    public void LossesMatchSaeLens(string folder, string tag, string device)
    {
        var dev = Device.Parse(device);
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference(folder);
        var run = r.Json.GetProperty("train").EnumerateArray().First(e => e.GetProperty("tag").GetString() == tag);
        var sae = TrainingSae(Sae.Load(SaeFixtures.Dir(folder), dev), r.Json, run);
        var options = new SaeLossOptions
        {
            SparsityCoefficient = Hyper(run, "l1_coefficient", Hyper(run, "l0_coefficient", 1.0)),
            LpNorm = Hyper(run, "lp_norm", 1.0),
            AuxLossCoefficient = Hyper(run, "aux_loss_coefficient", 1.0),
            JumpReluSparsityLoss = run.GetProperty("hyperparameters").TryGetProperty("jumprelu_sparsity_loss_mode", out var m) && m.GetString() == "tanh"
                ? JumpReluSparsityLoss.Tanh : JumpReluSparsityLoss.Step,
            JumpReluBandwidth = Hyper(run, "jumprelu_bandwidth", 0.05),
            JumpReluTanhScale = Hyper(run, "jumprelu_tanh_scale", 4.0),
            PreActLossCoefficient = run.GetProperty("hyperparameters").TryGetProperty("pre_act_loss_coefficient", out var p) ? p.GetDouble() : null,
        };
        var x = r.Tensor("x", dev);
        x = x.Reshape(x.Shape[0], -1); // hook_z SAEs train on the flattened input, as SAELens's training mode
        var dead = r.Has($"train.{tag}.dead_neuron_mask") ? r.Tensor($"train.{tag}.dead_neuron_mask", dev) : null;
        var output = sae.TrainingForward(x, options, dead);

        var want = run.GetProperty("losses").EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetDouble());
        Assert.Equal(want.Keys.Order(), output.Losses.Select(kv => kv.Key).Order());
        foreach (var (name, value) in want)
        {
            double got = output[name].Item<float>();
            double stored = r.Tensor($"train.{tag}.{name}").Item<float>();
            Assert.True(Math.Abs(got - stored) <= Rtol * Math.Abs(stored) + 1e-6, $"{folder}/{tag} {name}: {got} vs SAELens {stored} ({value})");
        }
        double total = output.Loss.Item<float>(), storedTotal = r.Tensor($"train.{tag}.loss").Item<float>();
        Assert.True(Math.Abs(total - storedTotal) <= Rtol * Math.Abs(storedTotal), $"{folder}/{tag} loss: {total} vs SAELens {storedTotal}");

        if (sae is BatchTopKSae batch)
        {
            SaeFixtures.Close(output.FeatureActs, r.Tensor("train.aux.feature_acts"), 1e-5, 1e-5, $"{folder} training-mode feature_acts");
            SaeFixtures.Close(output.HiddenPre, r.Tensor("train.aux.hidden_pre"), 1e-5, 1e-5, $"{folder} training-mode hidden_pre");
            SaeFixtures.Close(output.SaeOut, r.Tensor("train.aux.sae_out"), 1e-5, 1e-5, $"{folder} training-mode sae_out");
            Assert.Equal(run.GetProperty("batchtopk_kept").GetInt64(), (output.FeatureActs != 0).To(DType.Int64).Sum().Item<long>());
            Assert.Equal(run.GetProperty("topk_threshold_after_f64").GetDouble(), batch.TopKThreshold, 5e-6);
        }
    }

    /// <summary>The training class SAELens used: BatchTopK/Matryoshka from the folded JumpReLU folder's weights.</summary>
    private static Sae TrainingSae(Sae loaded, JsonElement reference, JsonElement run)
    {
        string kind = reference.Get("sae", "kind").GetString()!;
        if (kind != "batchtopk") return loaded;
        var cfg = reference.Get("sae", "training_cfg");
        var weights = loaded.Weights.Where(w => w.Key != "threshold").ToDictionary(w => w.Key, w => w.Value.Value.Clone().DetachFromScopes());
        double k = cfg.GetProperty("k").GetDouble(), before = run.GetProperty("topk_threshold_before_f64").GetDouble();
        double lr = Hyper(run, "topk_threshold_lr", 0.01);
        var config = loaded.Config with { RescaleActsByDecoderNorm = cfg.GetProperty("rescale_acts_by_decoder_norm").GetBoolean() };
        return cfg.TryGetProperty("matryoshka_widths", out var widths)
            ? new MatryoshkaBatchTopKSae(config, weights, k, widths.EnumerateArray().Select(e => e.GetInt32()).ToArray(), before, lr)
            : new BatchTopKSae(config, weights, k, before, lr);
    }

    [Fact]
    public void BatchTopKSavesAsTheJumpReluFolderSaeLensWrote()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference("batchtopk");
        var loaded = Sae.Load(SaeFixtures.Dir("batchtopk"));
        var threshold = loaded.Weights["threshold"].Value.ToArray<float>()[0];
        var weights = loaded.Weights.Where(w => w.Key != "threshold").ToDictionary(w => w.Key, w => w.Value.Value.Clone().DetachFromScopes());
        var batch = new BatchTopKSae(loaded.Config with { RescaleActsByDecoderNorm = true }, weights, 20.5, threshold);
        var inference = batch.ToInference();
        var x = r.Tensor("x");
        SaeFixtures.Close(inference.Encode(x), r.Tensor("feature_acts"), 1e-5, 1e-5, "inference form's feature_acts");
        Assert.Equal("jumprelu", inference.Config.Architecture);
    }
}
