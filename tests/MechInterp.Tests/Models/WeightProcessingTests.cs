using MechInterp.Models.Components;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>TransformerLens weight processing on every fixture: each step alone and all together keep log_softmax(logits)
/// (to 1e-4) and give the weights the property that defines the step; unsupported steps refuse with a message.</summary>
public sealed class WeightProcessingTests
{
    private static readonly string[] s_steps = ["FoldLayerNorm", "CenterWritingWeights", "CenterUnembed", "FoldValueBiases", "All"];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in HookTestUtil.Decoders)
            foreach (var s in s_steps) data.Add(m, s);
        return data;
    }

    private static bool Supports(HookedTransformerConfig c, string step) => step switch
    {
        "CenterWritingWeights" => c.NormalizationType == NormalizationType.LN && !c.UseNormalizationBeforeAndAfter,
        "CenterUnembed" => c.OutputLogitsSoftCap <= 0,
        _ => true,
    };

    private static LoadOptions Options(HookedTransformerConfig c, string step) => step == "All"
        ? new LoadOptions { FoldLayerNorm = true, CenterWritingWeights = Supports(c, "CenterWritingWeights"), CenterUnembed = Supports(c, "CenterUnembed"), FoldValueBiases = true }
        : new LoadOptions
        {
            FoldLayerNorm = step == "FoldLayerNorm", CenterWritingWeights = step == "CenterWritingWeights",
            CenterUnembed = step == "CenterUnembed", FoldValueBiases = step == "FoldValueBiases",
        };

    private static void ZeroMean(Tensor t, int dim, string what, double tol = 1e-5) =>
        Assert.True(HookTestUtil.MaxAbs(t.Mean(dim)) <= tol, $"{what} has mean {HookTestUtil.MaxAbs(t.Mean(dim)):E2} over dim {dim}");

    [Theory, MemberData(nameof(Cases))]
    public void ProcessingKeepsLogProbabilitiesAndGivesTheDefiningProperty(string fixture, string step)
    {
        var plain = HookTestUtil.Shared(fixture);
        var cfg = plain.Config;
        var options = Options(cfg, step);
        if (!Supports(cfg, step))
        {
            var e = Assert.Throws<NotSupportedException>(() => HookTestUtil.Load(fixture, options));
            Assert.Contains(step, e.Message);
            return;
        }
        var model = HookTestUtil.Load(fixture, options);
        Assert.Equal(options.Processing, model.Processing);
        var input = HookTestUtil.Input(fixture);
        var (logits, cache) = model.RunWithCache(input);
        using (cache)
        {
            Assert.Equal(options.Processing, cache.Processing);
            HookTestUtil.Close(logits.LogSoftmax(-1), plain.Forward(input).LogSoftmax(-1), 1e-4, $"{fixture} log-probs after {step}");

            if (options.FoldLayerNorm)
            {
                var pre = cfg.NormalizationType == NormalizationType.LN ? NormalizationType.LNPre : NormalizationType.RMSPre;
                var norms = model.Blocks.SelectMany(b => new[] { b.Ln1, b.Ln2 }).Append(model.LnFinal).OfType<Normalization>();
                foreach (var n in norms)
                {
                    Assert.Equal(pre, n.Type);
                    if (n.W is not null) Assert.Equal(0, HookTestUtil.MaxAbsDiff(n.W.Value, Tensor.OnesLike(n.W.Value)));
                    if (n.B is not null) Assert.Equal(0, HookTestUtil.MaxAbs(n.B.Value));
                }
                if (cfg.UseNormalizationBeforeAndAfter) // Gemma 2's output norms write to the residual: nothing to fold into
                    Assert.All(model.Blocks, b => Assert.Equal(NormalizationType.RMS, b.Ln1Post!.Type));
                // The unembedding now reads the bare normalised residual.
                Assert.Equal(0, HookTestUtil.MaxAbsDiff(cache["ln_final.hook_normalized"], cache["unembed.hook_in"]));
                if (pre == NormalizationType.LNPre) // LNPre centres its input, so folding also centres the reading weights
                    foreach (var b in model.Blocks)
                    {
                        ZeroMean(b.Attn.W_Q, 1, "W_Q"); ZeroMean(b.Attn.W_K, 1, "W_K"); ZeroMean(b.Attn.W_V, 1, "W_V");
                        ZeroMean(b.Mlp!.W_in.Value, 0, "W_in");
                    }
            }
            if (options.CenterWritingWeights)
            {
                ZeroMean(model.W_E, 1, "W_E");
                if (model.W_pos is { } wPos) ZeroMean(wPos, 1, "W_pos");
                foreach (var b in model.Blocks)
                {
                    ZeroMean(b.Attn.W_O, 2, "W_O"); ZeroMean(b.Attn.b_O, 0, "b_O");
                    ZeroMean(b.Mlp!.W_out.Value, 1, "W_out"); ZeroMean(b.Mlp.b_out.Value, 0, "b_out");
                }
                // Every write to the residual stream is centred, so the stream itself is.
                ZeroMean(cache["resid_post", 1], -1, "resid_post", 1e-4);
            }
            if (options.CenterUnembed)
            {
                ZeroMean(model.W_U, 1, "W_U");
                ZeroMean(model.Unembed.b_U.Value, 0, "b_U");
                ZeroMean(logits, -1, "logits", 1e-4);
            }
            if (options.FoldValueBiases)
                Assert.All(model.Blocks, b => Assert.Equal(0, HookTestUtil.MaxAbs(b.Attn.b_V)));
        }
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("gemma2-tiny")]
    public void ProcessingTwiceChangesNothingAndRefusalsLeaveTheModelAlone(string fixture)
    {
        var model = HookTestUtil.Load(fixture);
        var all = Options(model.Config, "All").Processing;
        model.ProcessWeights(all);
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        model.ProcessWeights(all);
        foreach (var (name, value) in model.StateDict()) Assert.Equal(0, HookTestUtil.MaxAbsDiff(value, before[name]));

        var fresh = HookTestUtil.Load(fixture);
        var refused = fixture == "gemma2-tiny"
            ? new WeightProcessing(true, false, true, true)   // CenterUnembed under a final soft cap
            : new WeightProcessing(true, true, true, true);
        if (fixture == "gemma2-tiny")
        {
            var snapshot = fresh.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
            var e = Assert.Throws<NotSupportedException>(() => fresh.ProcessWeights(refused));
            Assert.Contains("soft cap", e.Message);
            Assert.Equal(WeightProcessing.None, fresh.Processing);
            foreach (var (name, value) in fresh.StateDict()) Assert.Equal(0, HookTestUtil.MaxAbsDiff(value, snapshot[name]));
            Assert.Contains("CenterWritingWeights", Assert.Throws<NotSupportedException>(() => fresh.ProcessWeights(new WeightProcessing(false, true, false, false))).Message);
        }
        else
        {
            fresh.ProcessWeights(refused);
            Assert.Equal(refused, fresh.Processing);
        }
    }
}
