using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Per-call hooks belong to the calling thread: eight threads running one model at once, each scaling a
/// different activation, each get exactly what they get alone.</summary>
public sealed class HookThreadIsolationTests
{
    private static readonly string[] s_points =
    [
        "hook_embed", "blocks.0.attn.hook_z", "blocks.0.hook_mlp_out", "blocks.0.mlp.hook_post",
        "blocks.1.hook_resid_pre", "blocks.1.attn.hook_pattern", "blocks.1.hook_attn_out", "ln_final.hook_normalized",
    ];

    private static Tensor Run(HookedTransformer model, Tensor input, int i) =>
        model.RunWithHooks(input, (s_points[i], (x, _) => x * (1.5 + 0.25 * i))).DetachFromScopes();

    [Fact]
    public void EightThreadsWithDifferentHooksSeeOnlyTheirOwn()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        var alone = Enumerable.Range(0, 8).Select(i => Run(model, input, i)).ToArray();
        var clean = model.Forward(input);
        for (int i = 0; i < 8; i++)
            Assert.True(HookTestUtil.MaxAbsDiff(alone[i], clean) > 1e-4, $"hook {s_points[i]} must change the logits");

        const int rounds = 4;
        var results = new Tensor[8, rounds];
        var errors = new List<Exception>();
        using var barrier = new Barrier(8);
        var threads = Enumerable.Range(0, 8).Select(i => new Thread(() =>
        {
            try
            {
                barrier.SignalAndWait();
                for (int r = 0; r < rounds; r++) results[i, r] = Run(model, input, (i + r) % 8);
            }
            catch (Exception e) { lock (errors) errors.Add(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);
        for (int i = 0; i < 8; i++)
            for (int r = 0; r < rounds; r++)
                HookTestUtil.Close(results[i, r], alone[(i + r) % 8], 1e-6, $"thread {i} round {r} ({s_points[(i + r) % 8]})");
        // Nothing leaked onto the model.
        Assert.All(model.HookDict.Values, h => Assert.Equal(0, h.HookCount));
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(model.Forward(input), clean));
    }

    [Fact]
    public void ConcurrentCachesRecordOnlyTheirOwnRun()
    {
        var model = HookTestUtil.Load("llama-tiny");
        var input = HookTestUtil.Input("llama-tiny");
        var expected = Enumerable.Range(0, 4).Select(i =>
        {
            var (_, c) = model.RunWithCache(input * 0 + i, n => n.EndsWith("hook_resid_post", StringComparison.Ordinal));
            return c;
        }).ToArray();
        var caches = new ActivationCache[4];
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var (_, c) = model.RunWithCache(input * 0 + i, n => n.EndsWith("hook_resid_post", StringComparison.Ordinal));
            caches[i] = c;
        });
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(["blocks.0.hook_resid_post", "blocks.1.hook_resid_post"], caches[i].Keys);
            HookTestUtil.Close(caches[i]["resid_post", 1], expected[i]["resid_post", 1], 1e-6, $"cache {i}");
        }
    }
}
