using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>ForwardOptions: stopping and starting at a layer, return types, per-token loss, BOS handling and right
/// padding.</summary>
public sealed class ForwardOptionsTests
{
    public static TheoryData<string> Some() => new() { "gpt2-tiny", "pythia-tiny", "llama-tiny", "gemma2-tiny" };

    [Theory, MemberData(nameof(Some))]
    public void StopAtLayerReturnsTheResidualEnteringThatLayer(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var input = HookTestUtil.Input(fixture);
        var (_, cache) = model.RunWithCache(input, n => n.Contains("hook_resid_", StringComparison.Ordinal));
        using (cache)
        {
            for (int l = 0; l < 2; l++)
                HookTestUtil.Close(model.Forward(input, new ForwardOptions { StopAtLayer = l }), cache["resid_pre", l], 1e-6, $"stop at {l}");
            HookTestUtil.Close(model.Forward(input, new ForwardOptions { StopAtLayer = -1 }), cache["resid_pre", 1], 1e-6, "stop at -1");
            var full = model.ForwardFull(input, new ForwardOptions { StopAtLayer = 1, ReturnType = ReturnType.Both });
            Assert.Null(full.Logits);
            Assert.Null(full.Loss);
            Assert.NotNull(full.Residual);
        }
        // Nothing after the stop runs.
        var (_, partial) = model.RunWithCache(input, options: new ForwardOptions { StopAtLayer = 1 });
        using (partial)
        {
            Assert.Equal("blocks.0.hook_resid_post", partial.Keys.Last());
            Assert.DoesNotContain(partial.Keys, k => k.StartsWith("blocks.1.", StringComparison.Ordinal));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(input, new ForwardOptions { StopAtLayer = 3 }));
    }

    [Theory, MemberData(nameof(Some))]
    public void StartAtLayerFromACachedResidualReproducesLogitsAndLoss(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var (input, oracle) = HookTestUtil.Reference(fixture);
        var (logits, cache) = model.RunWithCache(input, n => n.Contains("hook_resid_", StringComparison.Ordinal));
        using (cache)
        {
            for (int l = 0; l < 2; l++)
                HookTestUtil.Close(model.Forward(cache["resid_pre", l], new ForwardOptions { StartAtLayer = l }), logits, 1e-5, $"start at {l}");
            HookTestUtil.Close(model.Forward(cache["resid_post", 1], new ForwardOptions { StartAtLayer = 2 }), oracle, 1e-4, "start at n_layers");
            HookTestUtil.Close(model.Forward(cache["resid_pre", 1], new ForwardOptions { StartAtLayer = -1 }), logits, 1e-5, "start at -1 (the last block)");
            HookTestUtil.Close(model.Forward(cache["resid_pre", 0], new ForwardOptions { StartAtLayer = -2, StopAtLayer = -1 }), cache["resid_pre", 1], 1e-6, "-2 → -1");
            Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(cache["resid_pre", 0], new ForwardOptions { StartAtLayer = -3 }));
            var loss = model.Forward(input, new ForwardOptions { ReturnType = ReturnType.Loss }).Item<float>();
            var resumed = model.Forward(cache["resid_pre", 1], new ForwardOptions { StartAtLayer = 1, ReturnType = ReturnType.Loss, Tokens = input });
            Assert.True(Math.Abs(loss - resumed.Item<float>()) <= 1e-5, $"resumed loss {resumed.Item<float>()} vs {loss}");
            // Run the middle only: start at 0, stop at 1 gives resid_pre 1 from resid_pre 0.
            HookTestUtil.Close(model.Forward(cache["resid_pre", 0], new ForwardOptions { StartAtLayer = 0, StopAtLayer = 1 }), cache["resid_pre", 1], 1e-6, "0 → 1");
            Assert.Throws<ArgumentException>(() => model.Forward(cache["resid_pre", 1], new ForwardOptions { StartAtLayer = 1, ReturnType = ReturnType.Loss }));
            Assert.Throws<ArgumentException>(() => model.Forward(input, new ForwardOptions { StartAtLayer = 1 }));
        }
    }

    [Fact]
    public void ReturnTypesAndPerTokenLoss()
    {
        var model = HookTestUtil.Shared("llama-tiny");
        var input = HookTestUtil.Input("llama-tiny");
        var logits = model.Forward(input);
        var both = model.ForwardFull(input, new ForwardOptions { ReturnType = ReturnType.Both, LossPerToken = true });
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(both.Logits!, logits));
        Assert.Equal([2L, 11], both.Loss!.Shape);
        // Per-token loss by hand from the logits: -log softmax(logits[b, t])[tokens[b, t + 1]], in float64.
        var lp = logits.To(DType.Float64).LogSoftmax(-1).ToArray<double>();
        var ids = input.ToArray<long>();
        var perToken = both.Loss.ToArray<double>();
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 11; t++)
            {
                double expected = -lp[(b * 12 + t) * 512 + ids[b * 12 + t + 1]];
                Assert.True(Math.Abs(expected - perToken[b * 11 + t]) <= 1e-5, $"[{b}, {t}]: {perToken[b * 11 + t]} vs {expected}");
            }
        var mean = model.Forward(input, new ForwardOptions { ReturnType = ReturnType.Loss }).Item<float>();
        Assert.True(Math.Abs(perToken.Average() - mean) <= 1e-5, $"mean {mean} vs {perToken.Average()}");
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(input, new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true }), both.Loss));

        Assert.Throws<ArgumentException>(() => model.Forward(input, new ForwardOptions { ReturnType = ReturnType.Both }));
        int fired = 0;
        var none = model.RunWithHooks(input, [new HookSpec("blocks.1.hook_resid_post", (_, _) => { fired++; return null; })], null,
            new ForwardOptions { ReturnType = ReturnType.None });
        Assert.Equal(1, fired);
        Assert.Equal(0, none.NumElements);
        // As in TransformerLens, the final norm still runs (its hooks fire) but the unembedding does not.
        var (_, noneCache) = model.RunWithCache(input, n => n.StartsWith("ln_final.", StringComparison.Ordinal) || n.StartsWith("unembed.", StringComparison.Ordinal),
            options: new ForwardOptions { ReturnType = ReturnType.None });
        using (noneCache) Assert.Equal(["ln_final.hook_scale", "ln_final.hook_normalized"], noneCache.Keys);
        var nothing = model.ForwardFull(input, new ForwardOptions { ReturnType = ReturnType.None });
        Assert.True(nothing.Logits is null && nothing.Loss is null && nothing.Residual is null);
    }

    [Fact]
    public void PrependBosFollowsTheOptionAndTheModelDefault()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        model.Tokenizer = TextTokenizer.Gpt2();
        Assert.True(model.Config.DefaultPrependBos);
        Assert.Equal([50256L, 15496, 995], model.ToTokens("Hello world").ToArray<long>());
        Assert.Equal([15496L, 995], model.ToTokens("Hello world", prependBos: false).ToArray<long>());

        // "a!" is two single-byte tokens, inside the tiny model's 512-token vocabulary; BOS (50256) is not.
        var ids = model.ToTokens("a!", prependBos: false);
        Assert.Equal([64L, 0], ids.ToArray<long>());
        HookTestUtil.Close(model.Forward("a!", new ForwardOptions { PrependBos = false }), model.Forward(ids), 0, "text vs ids");
        var e = Assert.Throws<ArgumentException>(() => model.Forward("a!")); // the default prepends BOS
        Assert.Contains("50256", e.Message);

        var noBos = HookTestUtil.Load("gpt2-tiny", new LoadOptions { ConfigureConfig = c => c with { DefaultPrependBos = false } });
        noBos.Tokenizer = TextTokenizer.Gpt2();
        Assert.Equal([15496L, 995], noBos.ToTokens("Hello world").ToArray<long>());
        Assert.Equal([50256L, 15496, 995], noBos.ToTokens("Hello world", prependBos: true).ToArray<long>());
        HookTestUtil.Close(noBos.Forward("a!"), model.Forward(ids), 0, "model default without BOS");
        Assert.Equal(["a", "!"], noBos.ToStrTokens("a!"));
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    [InlineData("neo-tiny")]
    [InlineData("gemma2-tiny")]
    public void RightPaddingGivesTheUnpaddedLogitsOnRealTokens(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var input = HookTestUtil.Input(fixture);
        var shortRow = input.Narrow(0, 1, 1).Narrow(1, 0, 7);                                   // [1, 7]
        var padded = Tensor.Concat([input.Narrow(0, 0, 1), Tensor.Concat([shortRow, Tensor.Full([1, 5], 3, DType.Int64)], 1)], 0);
        var mask = Tensor.FromArray(Enumerable.Repeat(1L, 12).Concat(Enumerable.Repeat(1L, 7)).Concat(Enumerable.Repeat(0L, 5)).ToArray(), 2, 12);
        var logits = model.Forward(padded, new ForwardOptions { AttentionMask = mask });
        HookTestUtil.Close(logits.Narrow(0, 1, 1).Narrow(1, 0, 7), model.Forward(shortRow), 1e-4, "padded row's real tokens");
        HookTestUtil.Close(logits.Narrow(0, 0, 1), model.Forward(input.Narrow(0, 0, 1)), 1e-4, "unpadded row");
        // The loss ignores pairs that touch padding.
        var perToken = model.Forward(padded, new ForwardOptions { AttentionMask = mask, ReturnType = ReturnType.Loss, LossPerToken = true });
        Assert.Equal(0, HookTestUtil.MaxAbs(perToken.Narrow(0, 1, 1).Narrow(1, 6, 5)));
        var shortLoss = model.Forward(shortRow, new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
        HookTestUtil.Close(perToken.Narrow(0, 1, 1).Narrow(1, 0, 6), shortLoss, 1e-5, "per-token loss on real pairs");
    }
}
