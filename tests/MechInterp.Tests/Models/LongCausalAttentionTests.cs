using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>
/// Sequences longer than one 64-row block take attention's hidden-half-skipping products in inference. The fixtures
/// stop at 32 positions, so llama-tiny (rotary: no position table; grouped-query: 4 heads on 2 KV heads) is loaded with a
/// 256-token context. References: the same model with gradients on (which multiplies everything), a forward with an
/// identity hook that edits the pattern (which must not skip), and a KV-cached continuation (a key offset).
/// </summary>
public sealed class LongCausalAttentionTests
{
    private static HookedTransformer LoadLong() =>
        HookedTransformer.FromPretrained(new FixtureReference("llama-tiny").Directory, new LoadOptions { ConfigureConfig = c => c with { NCtx = 256 } });

    private static Tensor Tokens(HookedTransformer model, int length)
    {
        var rng = new Random(11);
        return Tensor.FromArray(Enumerable.Range(0, length).Select(_ => (long)rng.Next(model.Config.DVocab)).ToArray(), 2, length / 2);
    }

    [Fact]
    public void InferenceEqualsTheFullProductsPathOnLongSequences()
    {
        using var scope = Tensor.Scope();
        using var model = LoadLong();
        var tokens = Tokens(model, 2 * 150);
        float[] skipping;
        using (GradMode.NoGrad()) skipping = model.Forward(tokens).ToArray<float>();

        model.SetRequiresGrad(true); // recording: every product is computed in full
        var full = model.Forward(tokens).ToArray<float>();
        model.SetRequiresGrad(false);
        Assert.True(full.Zip(skipping).Max(x => Math.Abs(x.First - x.Second)) <= 1e-5, "skipping vs full products");

        // An editing hook on the pattern may fill the hidden half, so z is then multiplied in full; same result here.
        using (GradMode.NoGrad())
        {
            var hooked = model.RunWithHooks(tokens, ("blocks.0.attn.hook_pattern", (x, _) => x * 1.0)).ToArray<float>();
            Assert.True(hooked.Zip(skipping).Max(x => Math.Abs(x.First - x.Second)) <= 1e-5, "identity pattern hook");
            // An edit that fills the hidden half must reach z: attending uniformly to all 150 keys changes the logits.
            var edited = model.RunWithHooks(tokens, ("blocks.0.attn.hook_pattern", (x, _) => Tensor.OnesLike(x) / x.Shape[^1])).ToArray<float>();
            Assert.True(edited.Zip(skipping).Max(x => Math.Abs(x.First - x.Second)) > 1e-3, "a non-causal pattern edit was ignored");
        }
    }

    [Fact]
    public void AKeyValueCachedContinuationEqualsTheFullForward()
    {
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        using var model = LoadLong();
        var tokens = Tokens(model, 2 * 180);
        var full = model.Forward(tokens);
        using var cache = new KeyValueCache(model.Config.NLayers);
        var first = model.Forward(tokens.Narrow(1, 0, 70), new ForwardOptions { PastKeyValues = cache });
        var rest = model.Forward(tokens.Narrow(1, 70, 110), new ForwardOptions { PastKeyValues = cache }); // 110 queries after 70 keys
        Assert.True(FixtureReference.MaxAbsDiff(first, full.Narrow(1, 0, 70)) <= 1e-5);
        Assert.True(FixtureReference.MaxAbsDiff(rest, full.Narrow(1, 70, 110)) <= 1e-5);
    }
}
