using MechInterp.Analysis;
using MechInterp.Tests.Hooks;
using MechInterp.Training;
using Xunit;

namespace MechInterp.Tests.Analysis;

/// <summary>The analysis tools give the managed CPU backend's numbers on TorchSharp's libtorch CPU backend.</summary>
public sealed class AnalysisBackendParityTests
{
    [Fact]
    public void HeadScoresAttributionsLensAndCompositionMatchAcrossBackends()
    {
        var cpu = HookTestUtil.Shared("gpt2-tiny");
        using var torch = HookTestUtil.Load("gpt2-tiny", new LoadOptions { Device = Device.TorchCpu });
        var tokens = HookTestUtil.Input("gpt2-tiny");
        var correct = Tensor.FromArray(new long[] { 3, 17 }, 2);
        var wrong = Tensor.FromArray(new long[] { 5, 2 }, 2);

        foreach (var kind in new[] { HeadKind.PreviousToken, HeadKind.DuplicateToken, HeadKind.Induction })
            HookTestUtil.Close(HeadDetector.DetectHead(torch, tokens, kind), HeadDetector.DetectHead(cpu, tokens, kind), 1e-5, $"{kind} scores");

        var (cpuLogits, cpuCache) = cpu.RunWithCache(tokens);
        var (torchLogits, torchCache) = torch.RunWithCache(tokens);
        using (cpuCache)
        using (torchCache)
        {
            var dla = DirectLogitAttribution.PerHead(torchCache, correct.To(Device.TorchCpu), wrong.To(Device.TorchCpu));
            HookTestUtil.Close(dla.Values.To(Device.Cpu), DirectLogitAttribution.PerHead(cpuCache, correct, wrong).Values, 1e-4, "per-head attributions");
            var at = torchLogits.Select(1, 11).To(Device.Cpu);
            var diff = at.Gather(1, correct.Unsqueeze(1)).Squeeze(1) - at.Gather(1, wrong.Unsqueeze(1)).Squeeze(1);
            HookTestUtil.Close(dla.Total.To(Device.Cpu), diff, 2e-4, "torch attributions sum to the logit difference");
            var lens = LogitLens.Run(torchCache);
            HookTestUtil.Close(lens.Logits.To(Device.Cpu), LogitLens.Run(cpuCache).Logits, 1e-4, "logit lens");
            HookTestUtil.Close(lens.Logits.Select(0, 2).To(Device.Cpu), cpuLogits, 2e-4, "lens final layer");
        }
        HookTestUtil.Close(torch.AllCompositionScores(CompositionType.K).To(Device.Cpu), cpu.AllCompositionScores(CompositionType.K), 1e-5, "K-composition");
        var (u, s, _) = torch.OV()[1, 0].Svd();
        HookTestUtil.Close(s.To(Device.Cpu), cpu.OV()[1, 0].S, 1e-5, "OV singular values");
        Assert.Equal(Device.TorchCpu, u.Device);
    }

    [Fact]
    public void TrainerRunsOnTorch()
    {
        var model = new HookedTransformer(new HookedTransformerConfig { NLayers = 1, DModel = 16, NHeads = 2, DHead = 8, DVocab = 12, NCtx = 10, AttnOnly = true }, Device.TorchCpu);
        model.InitWeights(new Generator(2));
        var stream = Tensor.FromArray(Enumerable.Range(0, 300).Select(i => (long)(i % 12)).ToArray(), 300);
        var result = new Trainer(model, new TrainerOptions { Steps = 30, LearningRate = 1e-2 }).Train(new TokenTensorBatches(stream, 8, 10));
        Assert.True(result.Losses[^1] < 0.6 * result.Losses[0], $"loss {result.Losses[0]:F3} -> {result.Losses[^1]:F3}");
    }
}
