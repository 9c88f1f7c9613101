using MechInterp.Backends.Cpu;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>Prepacked weights on the managed CPU backend, on real checkpoints: a model's weight matrices are packed into
/// the GEMM panel layout on their second use and the packs serve the later forwards. Every forward must still match the
/// Hugging Face oracle, and the packed forwards must equal the unpacked first one bit for bit. An in-place write into a
/// weight must drop its packs: the next forward must equal that of a freshly loaded model (which has no packs yet)
/// whose parameter was given the written values.</summary>
public sealed class PackedWeightsTests
{
    /// <summary>(fixture, memory-mapped load). The oracle input is 2 × 12 tokens, so every weight product has 24 rows:
    /// more than the few-row path's 4, so the blocked kernel that reads packs runs. pythia-tiny is stored as F16, so its
    /// weights are widened copies (pooled storage) whichever way it is loaded.</summary>
    public static TheoryData<string, bool> ParityCases() => new()
    {
        { "gpt2-tiny", true }, { "gpt2-tiny", false }, { "llama-tiny", true }, { "llama-tiny", false }, { "pythia-tiny", false },
    };

    internal static HookedTransformer Load(FixtureReference r, bool mapped) =>
        HookedTransformer.FromPretrained(r.Directory, new LoadOptions { MemoryMapWeights = mapped });

    internal static CpuStorage StorageOf(Tensor t) => ((CpuHandle)t.Handle).Storage;

    internal static long PackBytes(Parameter p) => StorageOf(p.Value).Packs?.Bytes ?? 0;

    internal static float[] Logits(HookedTransformer model, Tensor tokens)
    {
        using var logits = model.Forward(tokens);
        return logits.ToArray<float>();
    }

    internal static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    /// <summary>Asserts the two arrays hold the same float32 bit patterns (0 and -0, or two NaNs, count as different).</summary>
    internal static void AssertBitIdentical(float[] want, float[] got, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++)
            if (BitConverter.SingleToInt32Bits(want[i]) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"{what}: element {i} is {got[i]:R}, expected {want[i]:R} (max |Δ| {MaxAbsDiff(want, got):E2})");
    }

    /// <summary>Reproducible values of the magnitude of the fixtures' weights (their init std is 0.15).</summary>
    internal static float[] RandomValues(long count, int seed)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (long i = 0; i < count; i++) v[i] = (float)(rng.NextDouble() * 0.6 - 0.3);
        return v;
    }

    [Theory, MemberData(nameof(ParityCases))]
    public void LoadingPacksTheProjectionsAndPackedForwardsEqualUnpackedBitForBit(string fixture, bool mapped)
    {
        using var r = new FixtureReference(fixture);
        using var model = Load(r, mapped);
        var tokens = r.Tensor("input_ids");
        Assert.True(tokens.Shape[0] * tokens.Shape[1] > 4, "the products need more than 4 rows to use the blocked kernel");
        var oracle = r.Tensor("logits").ToArray<float>();
        var parameters = model.NamedParameters().ToArray();
        // The matrices every forward multiplies by through one GEMM (Linear): the MLP's and the unembedding.
        var matrices = parameters.Where(p => p.Name.EndsWith(".W_in", StringComparison.Ordinal) || p.Name.EndsWith(".W_out", StringComparison.Ordinal)
            || p.Name == "unembed.W_U").ToArray();
        Assert.Equal(2 * model.Config.NLayers + 1, matrices.Length);
        Assert.All(matrices, p => Assert.True(StorageOf(p.Parameter.Value).IsWeight, $"{p.Name} is not marked as a weight"));
        // Issue 16: loading packs every projection matrix (no stall in the first forwards); nothing else is packed.
        string[] projections = [".W_Q", ".W_K", ".W_V", ".W_O", ".W_in", ".W_gate", ".W_out", "unembed.W_U"];
        bool IsProjection(string name) => projections.Any(s => name.EndsWith(s, StringComparison.Ordinal));
        foreach (var (name, p) in parameters)
        {
            long elements = p.Value.Shape.Aggregate(1L, (a, b) => a * b);
            if (IsProjection(name)) Assert.True(PackBytes(p) >= elements * sizeof(float), $"{name}: packs hold {PackBytes(p)} bytes after loading, fewer than its {elements} floats");
            else Assert.True(PackBytes(p) == 0, $"{name} was packed at load but is no GEMM operand");
        }

        var first = Logits(model, tokens);
        var second = Logits(model, tokens);
        Assert.True(MaxAbsDiff(first, oracle) <= 1e-4, $"run 1: logits differ from the oracle by {MaxAbsDiff(first, oracle):E2}");
        Assert.True(MaxAbsDiff(second, oracle) <= 1e-4, $"run 2: logits differ from the oracle by {MaxAbsDiff(second, oracle):E2}");

        // The reference: the same checkpoint with every matrix replaced by a copy assigned after loading, which its first
        // forward multiplies unpacked.
        float[] unpacked;
        using (var fresh = Load(r, mapped))
        {
            foreach (var (name, p) in fresh.NamedParameters().Where(q => IsProjection(q.Name)).ToArray()) p.Value = p.Value.Clone();
            unpacked = Logits(fresh, tokens);
            Assert.All(fresh.NamedParameters().Where(q => IsProjection(q.Name)), q => Assert.True(PackBytes(q.Parameter) == 0, $"the reference packed {q.Name}"));
        }
        AssertBitIdentical(unpacked, first, "run 1 (packs made at load) vs unpacked");
        AssertBitIdentical(unpacked, second, "run 2 (packs reused) vs unpacked");
    }

    /// <summary>(fixture, parameter, memory-mapped load): a mapped contiguous matrix, a mapped strided view sharing its
    /// storage with two other parameters (W_K narrowed from GPT-2's fused c_attn, as are W_Q and W_V), GPT-2's W_U (tied
    /// to wte: the loader gives it storage of its own), Llama's W_U (lm_head read as its transpose) and a pooled matrix of
    /// a copying load.</summary>
    public static TheoryData<string, string, bool> InvalidationCases() => new()
    {
        { "gpt2-tiny", "blocks.0.mlp.W_in", true },
        { "gpt2-tiny", "blocks.1.attn.W_K", true },
        { "gpt2-tiny", "unembed.W_U", true },
        { "llama-tiny", "unembed.W_U", true },
        { "llama-tiny", "blocks.1.mlp.W_gate", false },
    };

    [Theory, MemberData(nameof(InvalidationCases))]
    public void AnInPlaceWriteDropsThePacksAndTheNextForwardSeesTheNewValues(string fixture, string parameter, bool mapped)
    {
        using var r = new FixtureReference(fixture);
        using var model = Load(r, mapped);
        var tokens = r.Tensor("input_ids");
        var target = model.NamedParameters().Single(p => p.Name == parameter).Parameter;
        var storage = StorageOf(target.Value);
        Assert.Equal(mapped, SafeTensorsFile.IsMapped(model.Blocks[0].Mlp!.W_out.Value));

        var before = Logits(model, tokens);
        AssertBitIdentical(before, Logits(model, tokens), "second forward vs first");
        Assert.True(PackBytes(target) > 0, $"{parameter} was not packed at load");
        int version = storage.Version;

        var shape = target.Value.Shape;
        var values = RandomValues(shape.Aggregate(1L, (a, b) => a * b), seed: parameter.Length * 31 + fixture.Length);
        using (GradMode.NoGrad())
        using (var source = Tensor.FromArray(values, shape))
            target.Value.CopyInPlace(source);
        Assert.Same(storage, StorageOf(target.Value)); // written in place, not replaced
        Assert.Equal(0, storage.Packs!.Bytes);
        Assert.True(storage.Version > version, $"the write left the storage at version {storage.Version}");
        Assert.Equal(values, target.Value.ToArray<float>());

        // The reference: a fresh load given the same values the public way (a value assigned after loading is not packed
        // on its first use).
        float[] want;
        using (var fresh = HookedTransformer.FromPretrained(r.Directory, new LoadOptions { MemoryMapWeights = false }))
        {
            var p = fresh.NamedParameters().Single(q => q.Name == parameter).Parameter;
            p.Value = Tensor.FromArray(values, shape);
            want = Logits(fresh, tokens);
            Assert.True(PackBytes(p) == 0, $"the reference model packed {parameter}");
        }
        Assert.True(MaxAbsDiff(before, want) > 1e-3, "the new values hardly change the logits: a stale pack would go unnoticed");

        AssertBitIdentical(want, Logits(model, tokens), "first forward after the write");
        AssertBitIdentical(want, Logits(model, tokens), "second forward after the write (packs made again)");
        Assert.True(PackBytes(target) > 0, $"{parameter} was not packed again after the write");
        AssertBitIdentical(want, Logits(model, tokens), "third forward after the write (new packs reused)");
    }
}
