using MechInterp.Circuits;
using MechInterp.Patching;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Patching;

/// <summary>Path patching on the graph against Wang et al.'s three-pass algorithm written with plain hooks on a model
/// loaded without per-head results or split inputs: sender patched and everything else frozen, receivers' inputs
/// recorded, then only the receivers fed those records.</summary>
public sealed class PathPatchingTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases() => PatchingOracle.Cases();

    [Theory, MemberData(nameof(Cases))]
    public void DirectPathsMatchTheThreePassAlgorithm(string fixture, string device)
    {
        using var o = new PatchingOracle(fixture, device);
        using var scope = Tensor.Scope();
        var plain = o.Model;
        var graphModel = HookedTransformer.FromPretrained(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), new LoadOptions
        {
            Device = Device.Parse(device),
            ConfigureConfig = c => c with { UseAttnResult = true, UseSplitQkvInput = true, UseHookMlpIn = true },
        });
        var (_, clean) = plain.RunWithCache(o.Clean);
        var (_, corrupted) = plain.RunWithCache(o.Corrupted);
        var (_, corruptedGraph) = graphModel.RunWithCache(o.Corrupted);
        int heads = plain.Config.NHeads;
        const int sender = 1, receiver = 2;
        var senderMask = Tensor.FromArray(Enumerable.Range(0, heads).Select(h => h == sender).ToArray(), [1, 1, heads, 1], DType.Bool, plain.Device);

        // Pass 2: the sender from the corrupted run, every other component frozen at its clean value.
        var frozen = new List<HookSpec> { new(ActName.Z(0), (z, _) => Tensor.Where(senderMask, corrupted[ActName.Z(0)], clean[ActName.Z(0)])) };
        frozen.Add(new(ActName.MlpOut(0), (_, _) => clean[ActName.MlpOut(0)]));
        for (int l = 1; l < plain.Config.NLayers; l++)
        {
            int layer = l;
            frozen.Add(new(ActName.Z(l), (_, _) => clean[ActName.Z(layer)]));
            frozen.Add(new(ActName.MlpOut(l), (_, _) => clean[ActName.MlpOut(layer)]));
        }
        Tensor? recordedQ = null;
        float toLogits;
        using (GradMode.NoGrad())
        {
            var record = new HookSpec(ActName.Q(1), (q, _) => { recordedQ = q.Clone(); return null; });
            toLogits = o.Metric(plain.RunWithHooks(o.Clean, [.. frozen, record])).Item<float>();
        }
        // Pass 3: the clean run with only the receiver's query replaced by the recorded one.
        var receiverMask = Tensor.FromArray(Enumerable.Range(0, heads).Select(h => h == receiver).ToArray(), [1, 1, heads, 1], DType.Bool, plain.Device);
        float toQuery;
        using (GradMode.NoGrad())
            toQuery = o.Metric(plain.RunWithHooks(o.Clean, (ActName.Q(1), (q, _) => Tensor.Where(receiverMask, recordedQ!, q)))).Item<float>();

        float gotLogits = PathPatching.Run(graphModel, o.Clean, corruptedGraph, o.Metric, [$"a0.h{sender}"], ["logits"]);
        float gotQuery = PathPatching.Run(graphModel, o.Clean, corruptedGraph, o.Metric, [$"a0.h{sender}"], [$"a1.h{receiver}.q"]);
        output.WriteLine($"a0.h{sender} → logits: {gotLogits} (three passes {toLogits}); → a1.h{receiver}.q: {gotQuery} (three passes {toQuery}); clean {o.CleanMetric}");
        Assert.True(Math.Abs(gotLogits - toLogits) <= 1e-4, $"to logits: {gotLogits} vs {toLogits}");
        Assert.True(Math.Abs(gotQuery - toQuery) <= 1e-4, $"to the query: {gotQuery} vs {toQuery}");
        Assert.True(Math.Abs(toLogits - o.CleanMetric) > 1e-3 && Math.Abs(toQuery - o.CleanMetric) > 1e-5, "the paths must matter for the check to mean anything");

        var sweep = PathPatching.SenderHeads(graphModel, o.Clean, corruptedGraph, o.Metric, ["logits"]).ToArray<float>();
        Assert.Equal(gotLogits, sweep[sender]);
    }

    /// <summary>A toy model made from gpt2-tiny whose paths are known by construction: layer 1 head 2's query weights
    /// are zero (its query is its bias whatever it reads, so no path into that query can matter) and layer 0 head 3's
    /// output weights are zero (it writes nothing, so none of its paths can matter); its value path still does.</summary>
    [Theory, InlineData("cpu"), InlineData("torch-cpu")]
    public void OnAToyModelPathsThatCannotMatterDoNotAndOthersDo(string device)
    {
        using var o = new PatchingOracle("gpt2-tiny", device);
        using var scope = Tensor.Scope();
        var model = HookedTransformer.FromPretrained(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2-tiny"), new LoadOptions
        {
            Device = Device.Parse(device),
            ConfigureConfig = c => c with { UseAttnResult = true, UseSplitQkvInput = true, UseHookMlpIn = true },
        });
        int dHead = model.Config.DHead;
        var wq = model.Blocks[1].Attn.Wq.Value.To(Device.Cpu).ToArray<float>(); // [d_model, heads·d_head], head-major columns
        long cols = model.Blocks[1].Attn.Wq.Value.Shape[1];
        for (long r = 0; r < wq.Length / cols; r++)
            for (int i = 0; i < dHead; i++) wq[r * cols + 2 * dHead + i] = 0;
        model.Blocks[1].Attn.Wq.Value = Tensor.FromArray(wq, model.Blocks[1].Attn.Wq.Value.Shape, DType.Float32, model.Device);
        var wo = model.Blocks[0].Attn.Wo.Value.To(Device.Cpu).ToArray<float>(); // [heads·d_head, d_model]
        long width = model.Blocks[0].Attn.Wo.Value.Shape[1];
        for (long r = 3 * dHead; r < 4 * dHead; r++)
            for (long c = 0; c < width; c++) wo[r * width + c] = 0;
        model.Blocks[0].Attn.Wo.Value = Tensor.FromArray(wo, model.Blocks[0].Attn.Wo.Value.Shape, DType.Float32, model.Device);

        var (cleanLogits, _) = model.RunWithCache(o.Clean, _ => false);
        float cleanMetric = o.Metric(cleanLogits).Item<float>();
        var (_, corrupted) = model.RunWithCache(o.Corrupted);
        for (int s = 0; s < 3; s++)
            Assert.Equal(cleanMetric, PathPatching.Run(model, o.Clean, corrupted, o.Metric, [$"a0.h{s}", "embed"], ["a1.h2.q"]));
        foreach (var receiver in new[] { "logits", "a1.h0", "m1", "a1.h2" })
            Assert.Equal(cleanMetric, PathPatching.Run(model, o.Clean, corrupted, o.Metric, ["a0.h3"], [receiver]));
        float value = PathPatching.Run(model, o.Clean, corrupted, o.Metric, ["embed"], ["a1.h2.v"]);
        output.WriteLine($"toy: clean {cleanMetric}, embed → a1.h2.v {value}");
        Assert.True(Math.Abs(value - cleanMetric) > 1e-4, "the value path is untouched by construction and must matter");
    }
}
