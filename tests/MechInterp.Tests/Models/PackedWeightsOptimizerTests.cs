using MechInterp.Backends.Cpu;
using MechInterp.Optim;
using Xunit;
using static MechInterp.Tests.Models.PackedWeightsTests;

namespace MechInterp.Tests.Models;

/// <summary>Prepacked weights under training: Adam's fused step writes the parameters in place, which must drop their
/// packs, so that every product after a step reads the new values. The reference products use copies that are not
/// weights (a Clone, or a freshly loaded model), which the backend never serves from a pack.</summary>
public sealed class PackedWeightsOptimizerTests
{
    [Fact]
    public void ProductsAfterEachAdamStepEqualTheProductWithAnUnpackedCopy()
    {
        const int m = 16, k = 40, n = 50; // 16 rows: the blocked kernel; 50 columns: a last panel padded with zeros
        var p = new Parameter("w", Tensor.FromArray(RandomValues(k * n, 1), k, n));
        p.Value.RequiresGrad = true;
        var storage = StorageOf(p.Value);
        Assert.True(storage.IsWeight);
        using var x = Tensor.FromArray(RandomValues(m * k, 2), m, k);
        using var target = Tensor.FromArray(RandomValues(m * n, 3), m, n);
        var adam = new Adam(new[] { p }, learningRate: 0.05);
        float[]? previous = null;
        for (int step = 0; step < 4; step++)
        {
            float[] want;
            using (GradMode.NoGrad())
            using (var copy = p.Value.Clone())
            using (var product = x.MatMul(copy))
            {
                Assert.False(StorageOf(copy).IsWeight);
                want = product.ToArray<float>();
            }
            if (previous is not null)
                Assert.True(MaxAbsDiff(previous, want) > 1e-3, $"step {step} hardly changed the product: a stale pack would go unnoticed");
            previous = want;
            // Use 1 records the view, use 2 packs it, use 3 reads the pack.
            for (int use = 1; use <= 3; use++)
            {
                using (GradMode.NoGrad())
                using (var y = x.MatMul(p.Value))
                    AssertBitIdentical(want, y.ToArray<float>(), $"step {step}, use {use}");
                Assert.True(use == 1 ? PackBytes(p) == 0 : PackBytes(p) > 0, $"step {step}, use {use}: {PackBytes(p)} bytes of packs");
            }

            using (var loss = (x.MatMul(p.Value) - target).Square().Sum())
                loss.Backward();
            int version = storage.Version;
            adam.Step();
            adam.ZeroGrad();
            Assert.Same(storage, StorageOf(p.Value)); // the fused in-place step, not a replaced value
            Assert.True(storage.Version > version);
            Assert.Equal(0, PackBytes(p));
        }
        p.Value.Dispose();
    }

    [Fact]
    public void AMappedGpt2TrainedWithAdamGivesTheLogitsOfAFreshModelWithItsWeights()
    {
        using var r = new FixtureReference("gpt2-tiny");
        using var model = Load(r, mapped: true);
        var tokens = r.Tensor("input_ids");
        var parameters = model.NamedParameters().ToArray();
        var w_in = model.Blocks[0].Mlp!.W_in;
        Assert.True(StorageOf(w_in.Value).IsMapped && w_in.Value.IsContiguous); // stepped in place, in private pages
        model.SetRequiresGrad(true);
        var adam = new Adam(parameters.Select(p => p.Parameter), learningRate: 0.01);
        float[]? previous = null;
        for (int step = 0; step <= 3; step++)
        {
            float[] got;
            using (GradMode.NoGrad())
            {
                got = Logits(model, tokens);
                AssertBitIdentical(got, Logits(model, tokens), $"step {step}: second forward (packs made)");
                Assert.True(PackBytes(w_in) > 0, $"step {step}: W_in was not packed by two forwards");
                AssertBitIdentical(got, Logits(model, tokens), $"step {step}: third forward (packs reused)");
            }
            if (previous is not null)
                Assert.True(MaxAbsDiff(previous, got) > 1e-3, $"step {step} hardly changed the logits: a stale pack would go unnoticed");
            previous = got;

            // The reference: a fresh copying load given clones of the current weights; its only forward packs nothing.
            using (GradMode.NoGrad())
            using (var fresh = Load(r, mapped: false))
            {
                foreach (var (name, q) in fresh.NamedParameters())
                    q.Value = parameters.Single(p => p.Name == name).Parameter.Value.Clone();
                AssertBitIdentical(Logits(fresh, tokens), got, $"step {step}: trained model vs fresh model with its weights");
            }
            if (step == 3) break;

            var storage = StorageOf(w_in.Value);
            using (var loss = model.Forward(tokens, new ForwardOptions { ReturnType = ReturnType.Loss }))
                loss.Backward();
            adam.Step();
            adam.ZeroGrad();
            Assert.Same(storage, StorageOf(w_in.Value));
            Assert.Equal(0, PackBytes(w_in));
        }
    }

    [Fact]
    public void AStepThatReplacesTheValueKeepsItAWeight()
    {
        // SGD (and Adam on a strided view) swaps in new elements instead of writing in place: they must still be packed.
        const int m = 12, k = 40, n = 70;
        var p = new Parameter("w", Tensor.FromArray(RandomValues(k * n, 4), k, n));
        p.Value.RequiresGrad = true;
        using var x = Tensor.FromArray(RandomValues(m * k, 5), m, k);
        var sgd = new Sgd(new[] { p }, learningRate: 0.1);
        using (var loss = x.MatMul(p.Value).Square().Mean()) loss.Backward();
        var before = StorageOf(p.Value);
        sgd.Step();
        Assert.NotSame(before, StorageOf(p.Value));
        Assert.True(StorageOf(p.Value).IsWeight);
        using (GradMode.NoGrad())
        {
            using var want = x.MatMul(p.Value.Clone());
            for (int use = 0; use < 3; use++)
            {
                using var got = x.MatMul(p.Value);
                Assert.Equal(want.ToArray<float>(), got.ToArray<float>());
            }
        }
        Assert.True(StorageOf(p.Value).Packs!.Bytes > 0);
    }
}
