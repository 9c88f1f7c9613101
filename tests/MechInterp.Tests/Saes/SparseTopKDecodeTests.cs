using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>TopK's sparse decode (a gather of k decoder rows) gives the dense product's output and gradients, and the
/// decoder gradient touches only gathered rows.</summary>
public class SparseTopKDecodeTests
{
    public static TheoryData<string, bool> Cases() => new() { { "cpu", false }, { "cpu", true }, { "torch-cpu", true } };

    private static (Dictionary<string, double[]> Grads, double[] Out) Run(Device device, bool rescale, bool sparse)
    {
        using var scope = Tensor.Scope();
        var cfg = new SaeConfig { Architecture = "topk", DIn = 16, DSae = 40, K = 3, RescaleActsByDecoderNorm = rescale };
        var sae = (TopKSae)SaeInitialization.Create(cfg, new Generator(21), device, decoderInitNorm: 0.7);
        using (GradMode.NoGrad()) sae.Weights["b_dec"].Value = Tensor.Randn([16], new Generator(4), device: device) * 0.1;
        sae.UseSparseDecode = sparse;
        sae.SetRequiresGrad(true);
        var x = Tensor.Randn([6, 16], new Generator(22), device: device);
        var y = sae.Forward(x);
        (y * Tensor.Randn([6, 16], new Generator(23), device: device)).Sum().Backward();
        var grads = sae.Weights.ToDictionary(w => w.Key, w => w.Value.Value.Grad!.ToArray<double>());
        return (grads, y.ToArray<double>());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SparseDecodeEqualsDenseWithGradients(string device, bool rescale)
    {
        var dev = Device.Parse(device);
        var dense = Run(dev, rescale, sparse: false);
        var sparse = Run(dev, rescale, sparse: true);
        Torch.ParityHarness.AssertClose("output", dense.Out, sparse.Out, 1e-5, 1e-6);
        foreach (var (name, g) in dense.Grads) Torch.ParityHarness.AssertClose($"grad {name}", g, sparse.Grads[name], 1e-5, 1e-6);
    }

    [Fact]
    public void DecoderGradientTouchesOnlyGatheredRows()
    {
        using var scope = Tensor.Scope();
        var cfg = new SaeConfig { Architecture = "topk", DIn = 16, DSae = 40, K = 2, RescaleActsByDecoderNorm = false };
        var sae = (TopKSae)SaeInitialization.Create(cfg, new Generator(31));
        sae.SetRequiresGrad(true);
        var x = Tensor.Randn([1, 16], new Generator(32));
        var f = sae.Encode(x);
        sae.Decode(f).Sum().Backward();
        var active = f.ToArray<float>().Select((v, i) => (v, i)).Where(p => p.v != 0).Select(p => p.i).ToHashSet();
        var g = sae.WDec.Grad!.ToArray<float>();
        for (int row = 0; row < 40; row++)
        {
            bool any = Enumerable.Range(0, 16).Any(c => g[row * 16 + c] != 0);
            Assert.Equal(active.Contains(row), any);
        }
    }
}
