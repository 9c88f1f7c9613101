using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>FoldWDecNorm leaves the reconstruction unchanged, makes decoder rows unit and scales latents by the norms;
/// device moves and dtype casts keep the outputs.</summary>
public class SaeFoldingTests
{
    public static TheoryData<string> Foldable() => new() { "standard", "topk-rescale", "jumprelu", "gated", "transcoder", "jumprelu-transcoder", "standard-norm-layernorm" };

    [Theory]
    [MemberData(nameof(Foldable))]
    public void FoldingKeepsTheReconstruction(string folder)
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference(folder);
        var sae = Sae.Load(SaeFixtures.Dir(folder));
        var norms = sae.DecoderNorms();
        var x = r.Tensor("x");
        sae.FoldWDecNorm();
        Assert.All(sae.DecoderNorms().ToArray<float>(), n => Assert.Equal(1.0, n, 5));
        SaeFixtures.Close(sae.Forward(x), r.Tensor("forward"), 1e-4, 1e-5, $"{folder} forward after folding");
        // Latents scale by the norms, except TopK with rescaling, whose latents already were h · ‖W_dec row‖.
        var want = folder.StartsWith("topk", StringComparison.Ordinal) ? r.Tensor("feature_acts") : r.Tensor("feature_acts") * norms;
        SaeFixtures.Close(sae.Encode(x), want, 1e-4, 1e-5, $"{folder} latents after folding");
    }

    [Fact]
    public void TopKWithoutRescaleRefusesToFold()
    {
        var sae = Sae.Load(SaeFixtures.Dir("topk"));
        Assert.Contains("rescale_acts_by_decoder_norm", Assert.Throws<InvalidOperationException>(sae.FoldWDecNorm).Message);
    }

    [Fact]
    public void DeviceMovesAndFloat64KeepTheOutputs()
    {
        using var scope = Tensor.Scope();
        using var r = SaeFixtures.Reference("jumprelu");
        var sae = Sae.Load(SaeFixtures.Dir("jumprelu")).To(Device.TorchCpu);
        SaeFixtures.Close(sae.Forward(r.Tensor("x", Device.TorchCpu)), r.Tensor("forward"), 1e-5, 1e-5, "on libtorch");
        sae.To(Device.Cpu).To(DType.Float64);
        Assert.Equal(DType.Float64, sae.ComputeDType);
        Assert.Equal("float64", sae.Config.DType);
        SaeFixtures.Close(sae.Forward(r.Tensor("x")), r.Tensor("forward"), 1e-5, 1e-5, "in float64");
        Assert.Throws<ArgumentException>(() => sae.Encode(r.Tensor("x", Device.TorchCpu)));
    }
}
