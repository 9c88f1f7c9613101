using Xunit;
using static MechInterp.Tests.Models.PackedWeightsTests;

namespace MechInterp.Tests.Models;

/// <summary>Eight threads running one fresh model at once race for every weight's first use, second use (the pack is
/// made under the cache's lock) and later uses: every result equals, bit for bit, a single-threaded forward of another
/// load whose products all packed on the fly, and the weights end up packed.</summary>
public sealed class PackedWeightsConcurrencyTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ThreadsRacingToPackGetTheUnpackedBits(bool mapped)
    {
        using var r = new FixtureReference("gpt2-tiny");
        var tokens = r.Tensor("input_ids");
        float[] want;
        using (var reference = Load(r, mapped: false)) want = Logits(reference, tokens); // a first use: nothing packed

        using var model = Load(r, mapped);
        const int threads = 8, rounds = 4;
        var results = new float[threads, rounds][];
        var errors = new List<Exception>();
        using var barrier = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            try
            {
                barrier.SignalAndWait();
                for (int k = 0; k < rounds; k++) results[i, k] = Logits(model, tokens);
            }
            catch (Exception e) { lock (errors) errors.Add(e); }
        })).ToArray();
        foreach (var t in workers) t.Start();
        foreach (var t in workers) t.Join();
        Assert.Empty(errors);
        for (int i = 0; i < threads; i++)
            for (int k = 0; k < rounds; k++)
                AssertBitIdentical(want, results[i, k], $"thread {i} round {k}");
        Assert.True(PackBytes(model.Blocks[0].Mlp!.W_in) > 0, "W_in was not packed by 32 forwards");
        Assert.True(PackBytes(model.Unembed.W_U) > 0, "W_U was not packed by 32 forwards");
    }
}
