using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>Each model kind has its own options record on top of the common one: through <see cref="IHookedModel"/>
/// the common options run on both kinds, a model's own record runs on it, and the other kind's record is refused.</summary>
public sealed class PerModelOptionsTests
{
    private static HookedEncoder Bert(FixtureReference r) => HookedEncoder.FromPretrained(r.Directory);

    [Fact]
    public void CommonOptionsGiveTheSameLossThroughTheInterfaceAsEachModelsOwnRecord()
    {
        var decoder = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        IHookedModel asInstrument = decoder;
        var common = asInstrument.Forward(input, new CommonForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
        var own = decoder.Forward(input, new ForwardOptions { ReturnType = ReturnType.Loss, LossPerToken = true });
        Assert.Equal(own.ToArray<float>(), common.ToArray<float>());

        using var r = new FixtureReference("bert-tiny");
        var encoder = Bert(r);
        var tokens = r.Tensor("input_ids", encoder.Device);
        IHookedModel encoderInstrument = encoder;
        var loss = encoderInstrument.Forward(tokens, new CommonForwardOptions { ReturnType = ReturnType.Loss }).Item<float>();
        // reference.json: HF's masked-LM loss with labels = input_ids (the encoder's default labels).
        Assert.True(Math.Abs(loss - r.Double("loss")) <= 1e-5, $"encoder loss through the interface {loss} vs {r.Double("loss")}");
        var labelled = encoder.Forward(tokens, new EncoderForwardOptions { ReturnType = ReturnType.Loss, Labels = tokens }).Item<float>();
        Assert.Equal(loss, labelled);
    }

    [Fact]
    public void TheOtherKindsRecordIsRefusedWithAMessageNamingTheRightOne()
    {
        IHookedModel decoder = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        var toDecoder = Assert.Throws<ArgumentException>(() => decoder.Forward(input, new EncoderForwardOptions()));
        Assert.Contains("takes ForwardOptions", toDecoder.Message, StringComparison.Ordinal);

        using var r = new FixtureReference("bert-tiny");
        IHookedModel encoder = Bert(r);
        var tokens = r.Tensor("input_ids", encoder.Device);
        var toEncoder = Assert.Throws<ArgumentException>(() => encoder.ForwardFull(tokens, new ForwardOptions { StartAtLayer = 1 }));
        Assert.Contains("takes EncoderForwardOptions", toEncoder.Message, StringComparison.Ordinal);
        // Instruments pass the common record, so caching and hooks work on an encoder with its own options too.
        var (_, cache) = encoder.RunWithCache(tokens, n => n == "hook_full_embed",
            options: new EncoderForwardOptions { TokenTypeIds = r.Tensor("token_type_ids", encoder.Device) });
        using (cache) Assert.True(cache.ContainsKey("hook_full_embed"));
    }

    [Fact]
    public void WithExpressionsOnTheCommonTypeKeepTheModelsOwnRecord()
    {
        CommonForwardOptions options = new ForwardOptions { StartAtLayer = 1, PrependBos = false };
        var changed = options with { ReturnType = ReturnType.Loss };
        var decoder = Assert.IsType<ForwardOptions>(changed);
        Assert.Equal(1, decoder.StartAtLayer);
        Assert.Equal(ReturnType.Loss, decoder.ReturnType);
    }
}
