using MechInterp.Backends.Cpu;
using MechInterp.Models;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>
/// The preallocated key/value cache: decoding through it — one token at a time, in chunks, past its initial capacity
/// so its buffers grow — gives the logits of one uncached forward over the whole sequence (an independent computation);
/// views it handed out stay correct after later growths; disposing it frees its buffers; a cached step that records
/// gradients passes them to that step's keys (checked against finite differences).
/// </summary>
public sealed class KeyValueCacheTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        // learned positions; rotary with GQA; sliding window of 6 (mistral); local/global layers with soft-capping (gemma2)
        foreach (var m in new[] { "gpt2-tiny", "llama-tiny", "mistral-tiny", "gemma2-tiny" })
            foreach (var d in new[] { "cpu", "torch-cpu" }) data.Add(m, d);
        return data;
    }

    private static HookedTransformer Load(string fixture, string device) =>
        HookedTransformer.FromPretrained(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture), new LoadOptions { Device = Device.Parse(device) });

    private static Tensor RandomTokens(HookedTransformer model, int batch, int length, int seed)
    {
        var rng = new Random(seed);
        var ids = new long[batch * length];
        for (int i = 0; i < ids.Length; i++) ids[i] = rng.Next(model.Config.DVocab);
        return Tensor.FromArray(ids, batch, length).To(model.Device);
    }

    [Theory, MemberData(nameof(Cases))]
    public void DecodingPastTheInitialCapacityMatchesOneFullForward(string fixture, string device)
    {
        using var scope = Tensor.Scope();
        using var _ = GradMode.NoGrad();
        var model = Load(fixture, device);
        const int total = 26;
        var tokens = RandomTokens(model, 1, total, seed: 5);
        var full = model.Forward(tokens);
        // Capacity 2 grows 3 → 16 → 32; no capacity hint starts at the prompt's length and grows at the next token.
        foreach (var cache in new[] { new KeyValueCache(model.Config.NLayers, 2), new KeyValueCache(model.Config.NLayers) })
        {
            using (cache)
            {
                long start = 0;
                foreach (int chunk in new[] { 3, 1, 1, 4, 1, 2, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1 })
                {
                    var logits = model.Forward(tokens.Narrow(1, start, chunk), new ForwardOptions { PastKeyValues = cache });
                    double diff = FixtureReference.MaxAbsDiff(logits, full.Narrow(1, start, chunk));
                    Assert.True(diff <= Tolerance, $"{fixture} on {device}: tokens {start}..{start + chunk} differ by {diff:E2} from the full forward");
                    start += chunk;
                    Assert.Equal(start, cache.Length);
                }
                Assert.Equal(total, start);
                Assert.True(cache.Capacity >= total);
                Assert.Equal(Enumerable.Range(0, total).Select(i => (long)i).ToArray(), cache.Positions!.ToArray<long>());
            }
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void LeftPaddedBatchDecodesLikeOneMaskedForward(string fixture, string device)
    {
        using var scope = Tensor.Scope();
        using var _ = GradMode.NoGrad();
        var model = Load(fixture, device);
        using var r = new FixtureReference(fixture);
        var prompt = r.Tensor("padded_input_ids", model.Device);
        var promptMask = r.Tensor("padded_attention_mask", model.Device).To(DType.Int64);
        long b = prompt.Shape[0], p = prompt.Shape[1];
        const int added = 10;
        var tokens = Tensor.Concat([prompt, RandomTokens(model, (int)b, added, seed: 9)], 1);
        var mask = Tensor.Concat([promptMask, Tensor.Ones([b, added], DType.Int64, model.Device)], 1);
        var full = model.Forward(tokens, new ForwardOptions { AttentionMask = mask });
        // The mask of each step's new token only, and the whole sequence's mask every step: both are accepted.
        foreach (bool wholeMask in new[] { false, true })
        {
            using var cache = new KeyValueCache(model.Config.NLayers, 4);
            var logits = model.Forward(prompt, new ForwardOptions { AttentionMask = promptMask, PastKeyValues = cache });
            AssertCloseOnRealTokens(logits, full.Narrow(1, 0, p), promptMask, $"{fixture} on {device}, prompt");
            for (long t = p; t < p + added; t++)
            {
                var stepMask = wholeMask ? mask.Narrow(1, 0, t + 1) : mask.Narrow(1, t, 1);
                logits = model.Forward(tokens.Narrow(1, t, 1), new ForwardOptions { AttentionMask = stepMask, PastKeyValues = cache });
                double diff = FixtureReference.MaxAbsDiff(logits, full.Narrow(1, t, 1));
                Assert.True(diff <= Tolerance, $"{fixture} on {device} (whole mask: {wholeMask}): token {t} differs by {diff:E2}");
            }
            Assert.Equal(mask.To(DType.Bool).ToArray<bool>(), cache.PaddingMask!.ToArray<bool>());
        }
    }

    private static void AssertCloseOnRealTokens(Tensor got, Tensor want, Tensor mask, string what)
    {
        var m = mask.ToArray<long>();
        var x = got.To(Device.Cpu).ToArray<float>();
        var y = want.To(Device.Cpu).ToArray<float>();
        long vocab = got.Shape[2];
        double worst = 0;
        for (long row = 0; row < m.Length; row++)
            if (m[row] != 0)
                for (long v = 0; v < vocab; v++) worst = Math.Max(worst, Math.Abs(x[row * vocab + v] - y[row * vocab + v]));
        Assert.True(worst <= Tolerance, $"{what}: real tokens differ by {worst:E2}");
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("torch-cpu")]
    public void ViewsHandedOutStayCorrectAfterLaterGrowth(string device)
    {
        using var scope = Tensor.Scope();
        using var _ = GradMode.NoGrad();
        var dev = Device.Parse(device);
        using var cache = new KeyValueCache(layers: 2, capacity: 1);
        var hostK = new List<float[]>();
        var hostV = new List<float[]>();
        var views = new List<(Tensor K, Tensor V, int Steps)>();
        var gen = new Generator(17);
        foreach (int p in new[] { 1, 2, 1, 1, 5, 1, 9, 1, 20, 1 })
        {
            // batch 2, p new positions, 3 heads of 4: the cache's batch rows are strided in its buffer
            var k = Tensor.Randn([2, p, 3, 4], gen).To(dev);
            var v = Tensor.Randn([2, p, 3, 4], gen).To(dev);
            hostK.Add(k.ToArray<float>());
            hostV.Add(v.ToArray<float>());
            cache.Append(0, Tensor.Zeros([2, p, 3, 4], device: dev), Tensor.Zeros([2, p, 3, 4], device: dev)); // another layer
            var (allK, allV) = cache.Append(1, k, v);
            views.Add((allK, allV, hostK.Count));
        }
        Assert.True(cache.Capacity >= 43);
        foreach (var (k, v, steps) in views)
        {
            Assert.Equal(Expected(hostK, steps), k.ToArray<float>());
            Assert.Equal(Expected(hostV, steps), v.ToArray<float>());
        }
    }

    /// <summary>The first <paramref name="steps"/> appended [2, p, 3, 4] chunks joined along dim 1, on the host.</summary>
    private static float[] Expected(List<float[]> chunks, int steps)
    {
        var result = new List<float>();
        for (int row = 0; row < 2; row++)
            for (int s = 0; s < steps; s++)
            {
                int perRow = chunks[s].Length / 2;
                result.AddRange(chunks[s].AsSpan(row * perRow, perRow).ToArray());
            }
        return [.. result];
    }

    [Fact]
    public void DisposeFreesTheBuffers()
    {
        var model = Load("gpt2-tiny", "cpu");
        CpuStorage keys, positions;
        Tensor positionView;
        var cache = new KeyValueCache(model.Config.NLayers);
        using (Tensor.Scope())
        using (GradMode.NoGrad())
        {
            model.Forward(RandomTokens(model, 1, 5, seed: 1), new ForwardOptions { PastKeyValues = cache });
            var (k, v) = cache.Append(0, Tensor.Zeros([1, 1, model.Config.KvHeads, model.Config.DHead]), Tensor.Zeros([1, 1, model.Config.KvHeads, model.Config.DHead]));
            keys = ((CpuHandle)k.Handle).Storage;
            positionView = cache.Positions!;
            positions = ((CpuHandle)positionView.Handle).Storage;
        } // the scope frees the views the pass and Append handed out; the cache still holds its buffers
        Assert.NotNull(keys.Data);
        Assert.NotNull(positions.Data);
        cache.Dispose();
        Assert.Throws<ObjectDisposedException>(() => keys.Data);
        Assert.Throws<ObjectDisposedException>(() => positions.Data);
        Assert.True(positionView.IsDisposed);
        Assert.Null(cache.Positions);
        Assert.Equal(0, cache.Length);
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void GradientsOfACachedStepReachItsKeysAndValues(string fixture)
    {
        var model = Load(fixture, "cpu");
        model.ConvertDType(DType.Float64);
        var prompt = RandomTokens(model, 1, 6, seed: 2);
        var next = RandomTokens(model, 1, 1, seed: 3);
        var weights = Tensor.Randn([1, 1, model.Config.DVocab], new Generator(4), dtype: DType.Float64).DetachFromScopes();
        foreach (var point in new[] { "blocks.0.attn.hook_k", "blocks.1.attn.hook_v" })
        {
            // d(loss)/d(this step's keys or values) from a backward hook, against central finite differences of the
            // loss with a perturbation added there by a forward hook; the cached tokens' keys and values are constants.
            Tensor? grad = null;
            using (model.HookDict[point].AddHook((g, _) => { grad = g.Clone().DetachFromScopes(); return null; }, HookDirection.Backward))
                StepLoss(model, prompt, next, weights, point, null).Backward();
            Assert.NotNull(grad);
            var direction = Tensor.Randn(grad!.Shape, new Generator(5), dtype: DType.Float64);
            double analytic = (grad * direction).Sum().Item<double>();
            const double eps = 1e-5; // float64: truncation ~eps², rounding ~1e-16 / eps
            double numeric;
            using (GradMode.NoGrad())
                numeric = (StepLoss(model, prompt, next, weights, point, direction * eps).Item<double>()
                    - StepLoss(model, prompt, next, weights, point, direction * -eps).Item<double>()) / (2 * eps);
            Assert.True(Math.Abs(analytic) > 1e-8, $"{fixture} {point}: no gradient reached this step's tensor");
            Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * Math.Max(1e-3, Math.Abs(numeric)), $"{fixture} {point}: finite difference {numeric:E6} vs backward {analytic:E6}");
        }
    }

    /// <summary>Prefill without gradients, then one cached step (with <paramref name="delta"/> added at
    /// <paramref name="point"/>, when given); returns Σ logits · weights.</summary>
    private static Tensor StepLoss(HookedTransformer model, Tensor prompt, Tensor next, Tensor weights, string point, Tensor? delta)
    {
        using var cache = new KeyValueCache(model.Config.NLayers);
        using (GradMode.NoGrad()) model.Forward(prompt, new ForwardOptions { PastKeyValues = cache });
        using var hook = delta is null ? null : model.HookDict[point].AddHook((x, _) => x + delta);
        return (model.Forward(next, new ForwardOptions { PastKeyValues = cache }) * weights).Sum();
    }
}
