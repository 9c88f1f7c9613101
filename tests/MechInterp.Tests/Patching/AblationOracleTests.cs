using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>Zero, mean and resample ablation of heads against the Hugging Face oracle, on both backends.</summary>
public sealed class AblationOracleTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    [Theory, MemberData(nameof(Cases))]
    public void ZeroAndMeanHeadAblationMatchTheOracle(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        output.WriteLine($"zero: {o.AssertMatches("zero_ablate_z_head", Ablation.ZeroHeads(o.Model, o.Clean, o.Metric)):E2}");
        output.WriteLine($"mean: {o.AssertMatches("mean_ablate_z_head", Ablation.MeanHeads(o.Model, o.Clean, o.Metric)):E2}");
    }

    [Theory, MemberData(nameof(Cases))]
    public void MeanOverADatasetCacheOfTheSameRunAndResamplingFromTheCorruptedRunMatchTheOracle(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var (_, clean) = o.Model.RunWithCache(o.Clean);
        var (_, corrupted) = o.Model.RunWithCache(o.Corrupted);
        o.AssertMatches("mean_ablate_z_head", Ablation.Heads(o.Model, o.Clean, o.Metric, AblationValue.Mean(clean)));
        // Resampling each head from the corrupted prompts is noising by head.
        o.AssertMatches("noise_z_head", Ablation.Heads(o.Model, o.Clean, o.Metric, AblationValue.Resample(corrupted)));
    }

    [Theory, MemberData(nameof(Cases))]
    public void AScopeAblationMatchesTheSweepAndKeepsGenerationUsable(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var zero = o.Expected("zero_ablate_z_head").ToArray<float>();
        int heads = o.Model.Config.NHeads;
        using (Ablation.Scope(o.Model, [Ablation.HeadSite(o.Model, 1, 2, AblationValue.Zero)]))
        using (GradMode.NoGrad())
            Assert.Equal(zero[heads + 2], o.Metric(o.Model.Forward(o.Clean)).Item<float>(), 4);

        // Generation under the scope: the cached (incremental) and the uncached decoding agree, and differ from the unablated model's.
        var prompt = o.Clean.Narrow(1, 0, 6);
        var sites = Enumerable.Range(0, heads).Select(h => Ablation.HeadSite(o.Model, 0, h, AblationValue.Zero)).ToArray();
        Tensor ablatedCached, ablatedFull;
        using (Ablation.Scope(o.Model, sites))
        {
            ablatedCached = o.Model.Generate(prompt, new GenerateOptions { MaxNewTokens = 6, DoSample = false, UseKvCache = true });
            ablatedFull = o.Model.Generate(prompt, new GenerateOptions { MaxNewTokens = 6, DoSample = false, UseKvCache = false });
        }
        var plain = o.Model.Generate(prompt, new GenerateOptions { MaxNewTokens = 6, DoSample = false, UseKvCache = true });
        Assert.Equal(ablatedFull.ToArray<long>(), ablatedCached.ToArray<long>());
        Assert.NotEqual(plain.ToArray<long>(), ablatedCached.ToArray<long>());
    }
}
