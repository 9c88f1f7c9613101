using MechInterp.Backends.Cpu;
using MechInterp.Loading.Architectures;
using MechInterp.Tests.Hooks;
using MechInterp.Tests.Loading;
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
        // b_U: zeros made by the loader. W_U: GPT-2 ties it to wte; sharing wte's memory would let an in-place update
        // of W_E (an optimizer step) change W_U too, so W_U reads wte through a second copy-on-write mapping of the file.
        Assert.Equal(["unembed.b_U"], notMapped);
        var wu = (CpuHandle)model.W_U.Handle;
        var we = (CpuHandle)model.W_E.Handle;
        Assert.NotSame(we.Storage, wu.Storage);
        Assert.Equal([1L, model.Config.DModel], wu.Strides); // wte [vocab, d] read as its transpose, not copied
        var wq = (CpuHandle)model.Blocks[0].Attn.Wq.Value.Handle;
        Assert.False(wq.IsContiguous); // a narrow of c_attn [d, 3d]: row stride 3d
        Assert.Equal([3 * model.Config.DModel, 1L], wq.Strides);
        var wk = (CpuHandle)model.Blocks[0].Attn.Wk.Value.Handle;
        Assert.Same(wq.Storage, wk.Storage); // disjoint views of one fused tensor
        Assert.Equal(model.W_E.T.Contiguous().ToArray<float>(), model.W_U.ToArray<float>());
    }

    public static TheoryData<long, long[], long[], long, long[], long[], bool> OverlapCases() => new()
    {
        // offset, shape, strides of two views of one storage, and whether they share an element
        { 0, [4, 3], [3, 1], 0, [3, 4], [1, 3], true },       // a matrix and its transpose (tied weights)
        { 0, [4, 3], [9, 1], 3, [4, 3], [9, 1], false },      // W_Q and W_K narrowed from a fused [4, 9]
        { 0, [4, 3], [9, 1], 2, [4, 3], [9, 1], true },       // narrows one column apart overlap
        { 0, [4, 3], [9, 1], 7, [4, 3], [9, 1], true },       // wraps into the next row
        { 0, [6], [1], 6, [6], [1], false },                  // adjacent bias slices
        { 0, [6], [2], 1, [6], [2], false },                  // interleaved even/odd elements
        { 0, [2, 2, 2], [4, 2, 1], 1, [8], [1], true },       // beyond two dims: assumed to overlap
    };

    [Theory, MemberData(nameof(OverlapCases))]
    public void OverlapTestAgreesWithTheElementSets(long offA, long[] shapeA, long[] stridesA, long offB, long[] shapeB, long[] stridesB, bool overlap)
    {
        using var x = Tensor.Zeros([64]);
        var h = (CpuHandle)x.Handle;
        using var a = h.ViewOf(offA, shapeA, stridesA);
        using var b = h.ViewOf(offB, shapeB, stridesB);
        static HashSet<long> Elements(long off, long[] shape, long[] strides)
        {
            var set = new HashSet<long> { off };
            for (int d = 0; d < shape.Length; d++)
                set = set.SelectMany(e => Enumerable.Range(0, (int)shape[d]).Select(i => e + i * strides[d])).ToHashSet();
            return set;
        }
        bool actual = Elements(offA, shapeA, stridesA).Overlaps(Elements(offB, shapeB, stridesB));
        Assert.Equal(overlap, actual); // the case table itself, checked by enumeration
        bool conservative = shapeA.Length > 2;
        Assert.Equal(actual || conservative, StorageOverlap.MayOverlap(a, b));
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
    public void InPlaceAdamStepsOnMappedWeightsMatchTheCopiedModelAndLeaveTheFileAlone()
    {
        using var dir = new TempDir();
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(LoadingTestSupport.Fixture("gpt2-tiny", f), dir.File(f));
        var original = File.ReadAllBytes(dir.File("model.safetensors"));
        using var mapped = HookedTransformer.FromPretrained(dir.Path);
        using var copied = HookedTransformer.FromPretrained(dir.Path, new LoadOptions { MemoryMapWeights = false });
        var mappedStorage = ((CpuHandle)mapped.W_E.Handle).Storage;
        Assert.True(mappedStorage.IsMapped && mapped.W_E.IsContiguous); // eligible for the in-place fused step
        var strided = mapped.NamedParameters().Where(p => !p.Parameter.Value.IsContiguous).Select(p => p.Name).ToHashSet();
        Assert.NotEmpty(strided);
        using var tokens = Tensor.FromArray([1L, 5, 9, 2, 7], 1, 5);
        foreach (var model in new[] { mapped, copied })
        {
            model.SetRequiresGrad(true);
            var adam = new MechInterp.Optim.Adam(model.NamedParameters().Select(p => p.Parameter), learningRate: 0.01);
            using var scope = Tensor.Scope();
            model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss }).Backward();
            adam.Step();
        }
        Assert.Same(mappedStorage, ((CpuHandle)mapped.W_E.Handle).Storage); // updated in place, in private pages
        // One step from identical weights: contiguous parameters take the same fused in-place step in both models, bit
        // for bit. The strided mapped views (W_Q/W_K/W_V narrowed from c_attn) take Adam's composite path, whose rounding
        // differs from the fused kernel's.
        foreach (var (name, p) in mapped.NamedParameters())
        {
            var other = copied.NamedParameters().Single(q => q.Name == name).Parameter.Value;
            double diff = FixtureReference.MaxAbsDiff(other, p.Value);
            Assert.True(strided.Contains(name) ? diff <= 1e-6 : diff == 0, $"{name} differs by {diff:E2}");
        }
        Assert.Equal(original, File.ReadAllBytes(dir.File("model.safetensors")));
    }

    [Fact]
    public void TiedUnembedAndEmbedWriteIntoPagesOfTheirOwn()
    {
        using var r = new FixtureReference("gpt2-tiny");
        using var model = HookedTransformer.FromPretrained(r.Directory);
        var embed = model.W_E.ToArray<float>();
        var unembed = model.W_U.ToArray<float>();
        Assert.Equal(model.W_E.T.Contiguous().ToArray<float>(), unembed);
        using (GradMode.NoGrad())
        {
            model.W_E.CopyInPlace(Tensor.Zeros(model.W_E.Shape));
            Assert.Equal(unembed, model.W_U.ToArray<float>()); // W_U's mapping did not see the write into W_E's
            model.W_U.CopyInPlace(Tensor.Ones(model.W_U.Shape));
            Assert.All(model.W_E.ToArray<float>(), v => Assert.Equal(0f, v));
        }
        using var fresh = HookedTransformer.FromPretrained(r.Directory);
        Assert.Equal(embed, fresh.W_E.ToArray<float>()); // and neither write reached the file
        Assert.Equal(unembed, fresh.W_U.ToArray<float>());
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
