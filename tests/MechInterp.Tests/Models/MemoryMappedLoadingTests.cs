using MechInterp.Backends.Cpu;
using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>Loading with memory-mapped weights: the same logits as the copying load, bit for bit, with and without
/// weight processing, and the Hugging Face oracle's logits; which parameters stay mapped; the option's refusals.</summary>
public sealed class MemoryMappedLoadingTests
{
    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var m in HookTestUtil.Decoders)
            foreach (var processed in new[] { false, true }) data.Add(m, processed);
        return data;
    }

    private static LoadOptions Options(HookedTransformerConfig? c, bool map, bool processed) => new()
    {
        MemoryMapWeights = map,
        FoldLayerNorm = processed, FoldValueBiases = processed, CenterUnembed = processed && c is { OutputLogitsSoftCap: <= 0 },
        CenterWritingWeights = processed && c is { NormalizationType: NormalizationType.LN, UseNormalizationBeforeAndAfter: false },
    };

    private static float[] Logits(HookedTransformer model, Tensor tokens)
    {
        using var logits = model.Forward(tokens);
        return logits.ToArray<float>();
    }

    [Theory, MemberData(nameof(Cases))]
    public void MappedAndCopiedLoadsGiveIdenticalLogits(string fixture, bool processed)
    {
        using var r = new FixtureReference(fixture);
        HookedTransformerConfig config;
        using (var probe = HookedTransformer.FromPretrained(r.Directory)) config = probe.Config;
        using var copied = HookedTransformer.FromPretrained(r.Directory, Options(config, false, processed));
        using var mapped = HookedTransformer.FromPretrained(r.Directory, Options(config, true, processed));
        Assert.DoesNotContain(copied.NamedParameters(), p => SafeTensorsFile.IsMapped(p.Parameter.Value));
        if (fixture != "pythia-tiny" && !processed) // pythia is stored as F16: widened by a copy
            Assert.Contains(mapped.NamedParameters(), p => SafeTensorsFile.IsMapped(p.Parameter.Value));
        // Unprocessed, the parameters hold the same float32 values, so the logits agree bit for bit. Processing
        // reduces over the weights (means, b @ W); a strided mapped view and a contiguous copy are summed in a different
        // order, so processed weights agree to float32 rounding only.
        double tol = processed ? 1e-6 : 0;
        foreach (var (name, p) in mapped.NamedParameters())
        {
            var other = copied.NamedParameters().Single(q => q.Name == name).Parameter.Value;
            Assert.True(FixtureReference.MaxAbsDiff(other, p.Value) <= tol, $"{name} differs by {FixtureReference.MaxAbsDiff(other, p.Value):E2}");
        }
        var tokens = r.Tensor("input_ids");
        var want = Logits(copied, tokens);
        var got = Logits(mapped, tokens);
        if (processed) Assert.True(want.Zip(got).Max(w => Math.Abs(w.First - w.Second)) <= 1e-5);
        else Assert.Equal(want, got);
        if (!processed)
            Assert.True(FixtureReference.MaxAbsDiff(mapped.Forward(tokens), r.Tensor("logits")) <= 1e-4);
        else
        {
            // Processing keeps log_softmax(logits): compare with the oracle's.
            var diff = FixtureReference.MaxAbsDiff(mapped.Forward(tokens).LogSoftmax(-1), r.Tensor("logits").LogSoftmax(-1));
            Assert.True(diff <= 1e-4, $"log-probabilities differ by {diff:E2}");
        }
    }

    [Fact]
    public void Gpt2KeepsEveryCheckpointWeightMappedIncludingStridedViews()
    {
        using var r = new FixtureReference("gpt2-tiny");
        using var model = HookedTransformer.FromPretrained(r.Directory);
        var notMapped = model.NamedParameters().Where(p => !SafeTensorsFile.IsMapped(p.Parameter.Value)).Select(p => p.Name).ToArray();
        Assert.Equal(["unembed.b_U"], notMapped); // zeros made by the loader: not in the checkpoint
        var wq = (CpuHandle)model.Blocks[0].Attn.Wq.Value.Handle;
        Assert.False(wq.IsContiguous); // a narrow of c_attn [d, 3d]: row stride 3d
        Assert.Equal([3 * model.Config.DModel, 1L], wq.Strides);
        var wu = (CpuHandle)model.Unembed.W_U.Value.Handle;
        Assert.Same(((CpuHandle)model.Embed.W_E.Value.Handle).Storage, wu.Storage); // tied: W_U is wte's transpose
    }

    [Fact]
    public void LlamaMapsTransposedLinearWeights()
    {
        using var r = new FixtureReference("llama-tiny");
        using var model = HookedTransformer.FromPretrained(r.Directory);
        var wq = (CpuHandle)model.Blocks[0].Attn.Wq.Value.Handle;
        Assert.True(wq.Storage.IsMapped);
        Assert.Equal([1L, model.Config.DModel], wq.Strides); // q_proj [h*dh, d] read as its transpose
        Assert.True(SafeTensorsFile.IsMapped(model.Blocks[0].Mlp!.W_in.Value));
        using var copied = HookedTransformer.FromPretrained(r.Directory, new LoadOptions { MemoryMapWeights = false });
        Assert.True(copied.Blocks[0].Attn.Wq.Value.IsContiguous);
        Assert.Equal(copied.W_U.ToArray<float>(), model.W_U.ToArray<float>());
    }

    [Fact]
    public void EncoderLoadsIdenticallyWithAndWithoutMapping()
    {
        using var r = new FixtureReference("bert-tiny");
        using var mapped = HookedEncoder.FromPretrained(r.Directory);
        using var copied = HookedEncoder.FromPretrained(r.Directory, new LoadOptions { MemoryMapWeights = false });
        Assert.Contains(mapped.NamedParameters(), p => SafeTensorsFile.IsMapped(p.Parameter.Value));
        Assert.DoesNotContain(copied.NamedParameters(), p => SafeTensorsFile.IsMapped(p.Parameter.Value));
        foreach (var (name, p) in mapped.NamedParameters())
            Assert.Equal(copied.NamedParameters().Single(q => q.Name == name).Parameter.Value.ToArray<float>(), p.Value.ToArray<float>());
        var tokens = r.Tensor("input_ids");
        Assert.Equal(copied.Forward(tokens).ToArray<float>(), mapped.Forward(tokens).ToArray<float>());
    }

    [Fact]
    public void MappingIsRefusedWhereItCannotApply()
    {
        var dir = new FixtureReference("gpt2-tiny").Directory;
        var e = Assert.Throws<NotSupportedException>(() => HookedTransformer.FromPretrained(dir, new LoadOptions { MemoryMapWeights = true, Device = Device.TorchCpu }));
        Assert.Contains("MemoryMapWeights", e.Message);
        Assert.Throws<NotSupportedException>(() => HookedTransformer.FromPretrained(dir, new LoadOptions { MemoryMapWeights = true, DType = DType.Float64 }));
    }
}
