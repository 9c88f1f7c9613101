using MechInterp.Saes;
using Xunit;

namespace MechInterp.Tests.Saes;

/// <summary>TopK's sparse decode (a gather of k decoder rows) gives the dense product's output and gradients, and the
/// decoder gradient touches only gathered rows; its sparse training encode gives the dense losses and gradients.</summary>
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

    private static (Dictionary<string, double[]> Grads, double[] Losses) Train(Device device, bool rescale, bool sparse, bool withDead)
    {
        using var scope = Tensor.Scope();
        var cfg = new SaeConfig { Architecture = "topk", DIn = 16, DSae = 40, K = 3, RescaleActsByDecoderNorm = rescale };
        var sae = (TopKSae)SaeInitialization.Create(cfg, new Generator(41), device, decoderInitNorm: 0.7);
        using (GradMode.NoGrad()) sae.Weights["b_dec"].Value = Tensor.Randn([16], new Generator(42), device: device) * 0.1;
        sae.UseSparseDecode = sparse;
        sae.SetRequiresGrad(true);
        var x = Tensor.Randn([6, 16], new Generator(43), device: device);
        // Every third latent dead: the auxiliary loss then reads the dead latents' pre-activations.
        var dead = withDead ? Tensor.FromArray(Enumerable.Range(0, 40).Select(i => i % 3 == 0).ToArray(), [40], DType.Bool, device) : null;
        var output = sae.TrainingForward(x, new SaeLossOptions { AuxLossCoefficient = 1.0 }, dead);
        output.Loss.Backward();
        var grads = sae.Weights.ToDictionary(w => w.Key, w => w.Value.Value.Grad!.ToArray<double>());
        return (grads, output.Losses.Select(l => (double)l.Value.Item<float>()).ToArray());
    }

    public static TheoryData<string, bool, bool> TrainingCases() => new()
    {
        { "cpu", false, false }, { "cpu", false, true }, { "cpu", true, true }, { "torch-cpu", true, true },
    };

    [Theory]
    [MemberData(nameof(TrainingCases))]
    public void SparseTrainingEncodeGivesTheDenseLossesAndGradients(string device, bool rescale, bool withDead)
    {
        var dev = Device.Parse(device);
        var dense = Train(dev, rescale, sparse: false, withDead);
        var sparse = Train(dev, rescale, sparse: true, withDead);
        Torch.ParityHarness.AssertClose("losses", dense.Losses, sparse.Losses, 1e-5, 1e-6);
        if (withDead) Assert.True(dense.Losses[1] > 0, "the auxiliary loss should be active with dead latents");
        foreach (var (name, g) in dense.Grads) Torch.ParityHarness.AssertClose($"grad {name}", g, sparse.Grads[name], 1e-5, 1e-6);
    }
}
