using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>Every SAELens-written folder loads and computes what SAELens computed (hook values, encode, decode,
/// forward, error term, l0, two leading batch dims), on the managed backend and on libtorch.</summary>
public class SaeOracleTests
{
    private const double Atol = 1e-5, Rtol = 1e-5;

    public static TheoryData<string, string> Cases => SaeFixtures.FoldersOnBothBackends();

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodeDecodeForwardMatchSaeLens(string folder, string device)
    {
        var dev = Device.Parse(device);
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference(folder);
        var sae = Sae.Load(SaeFixtures.Dir(folder), dev);
        Assert.Equal(dev, sae.Device);
        Tensor? hiddenPre = null, recons = null;
        using var pre = sae.HookSaeActsPre.AddHook((x, _) => { hiddenPre = x; return null; });
        using var rec = sae.HookSaeRecons.AddHook((x, _) => { recons ??= x; return null; });

        var x = r.Tensor("x", dev);
        var f = sae.Encode(x);
        SaeFixtures.Close(hiddenPre!, r.Tensor("hidden_pre"), Atol, Rtol, $"{folder} hidden_pre");
        SaeFixtures.Close(f, r.Tensor("feature_acts"), Atol, Rtol, $"{folder} feature_acts");
        Assert.Equal(r.Tensor("l0").ToArray<long>(), SaeFixtures.RowL0(f));
        SaeFixtures.Close(sae.Decode(f), r.Tensor("reconstruction"), Atol, Rtol, $"{folder} reconstruction");
        SaeFixtures.Close(recons!, r.Tensor("recons_before_norm_out"), Atol, Rtol, $"{folder} recons_before_norm_out");
        SaeFixtures.Close(sae.Forward(x), r.Tensor("forward"), Atol, Rtol, $"{folder} forward");
        if (r.Has("forward_error_term"))
            SaeFixtures.Close(sae.Forward(x, useErrorTerm: true), r.Tensor("forward_error_term"), Atol, Rtol, $"{folder} forward_error_term");
        if (sae is GatedSae gated)
        {
            Tensor saeIn = x - gated.BDec;
            SaeFixtures.Close(gated.GatePre(saeIn), r.Tensor("gate_pre"), Atol, Rtol, $"{folder} gate_pre");
        }

        var x3 = r.Tensor("x_3d", dev);
        var f3 = sae.Encode(x3);
        SaeFixtures.Close(f3, r.Tensor("feature_acts_3d"), Atol, Rtol, $"{folder} feature_acts_3d");
        Assert.Equal(r.Tensor("l0_3d").ToArray<long>(), SaeFixtures.RowL0(f3));
        SaeFixtures.Close(sae.Decode(f3), r.Tensor("reconstruction_3d"), Atol, Rtol, $"{folder} reconstruction_3d");
        SaeFixtures.Close(sae.Forward(x3), r.Tensor("forward_3d"), Atol, Rtol, $"{folder} forward_3d");
    }

    [Fact]
    public void TopKRowsHaveExactlyK()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference("topk");
        var sae = (TopKSae)Sae.Load(SaeFixtures.Dir("topk"));
        Assert.All(SaeFixtures.RowL0(sae.Encode(r.Tensor("x"))), l0 => Assert.Equal(sae.K, l0));
    }

    [Fact]
    public void ConstantNormDecodeUsesEachEncodeOnce()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference("standard-norm-constant");
        var sae = Sae.Load(SaeFixtures.Dir("standard-norm-constant"));
        var f = sae.Encode(r.Tensor("x"));
        sae.Decode(f);
        var e = Assert.Throws<InvalidOperationException>(() => sae.Decode(f));
        Assert.Contains("constant_norm_rescale", e.Message);
    }

    [Fact]
    public void LoadedArchitecturesAreSaeLensInferenceClasses()
    {
        foreach (var folder in SaeFixtures.Folders)
        {
            using var r = SaeFixtures.Reference(folder);
            string loaded = r.Json.Get("sae", "loaded_class").GetString()!;
            var sae = Sae.Load(SaeFixtures.Dir(folder));
            string ours = sae.GetType().Name.Replace("Sae", "SAE").Replace("JumpRelu", "JumpReLU").Replace("TopK", "TopK");
            Assert.Equal(loaded, ours);
        }
    }
}
