using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>TransformerLens's hook.ctx and reset_hooks(direction, including_permanent, clear_contexts): a per-call
/// scratch dictionary that lives for one run and is private to it, and resets that remove only what they are asked to.</summary>
public sealed class HookContextParityTests
{
    private const string Point = "blocks.0.hook_resid_pre";

    [Fact]
    public void CtxLivesForOneRunAndIsSharedByTheHooksOfThatRun()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        var seenAtStart = new List<bool>();
        double? handedOver = null;
        HookFn writer = (x, h) =>
        {
            seenAtStart.Add(h.Ctx.ContainsKey("sum"));
            h.Ctx["sum"] = x.Sum().Item<float>();
            return null;
        };
        HookFn reader = (x, h) => { handedOver = (float)h.Ctx["sum"]!; return null; };
        model.RunWithHooks(input, (Point, writer), (Point, reader));
        model.RunWithHooks(input, (Point, writer), (Point, reader));
        Assert.Equal([false, false], seenAtStart); // a fresh ctx each run
        using var cache = model.RunWithCache(input, n => n == Point).Cache;
        Assert.Equal(cache[Point].Sum().Item<float>(), handedOver);
        Assert.False(model.GetHookPoint(Point).Ctx.ContainsKey("sum")); // nothing left after the runs
    }

    [Fact]
    public void ABackwardHookReadsWhatTheForwardHookLeftInCtx()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        long[]? shapeSeenBackward = null;
        HookFn forward = (x, h) => { h.Ctx["shape"] = x.Shape; return null; };
        HookFn backward = (g, h) => { shapeSeenBackward = (long[])h.Ctx["shape"]!; return null; };
        model.RunWithHooks(input, [(Point, forward)], [(Point, backward)]);
        Assert.NotNull(shapeSeenBackward);
        Assert.Equal([2L, 12, 64], shapeSeenBackward);
    }

    [Fact]
    public void ConcurrentRunsEachSeeTheirOwnCtx()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        var mismatches = 0;
        Parallel.For(0, 4, i =>
        {
            HookFn write = (x, h) => { h.Ctx["run"] = i; Thread.Sleep(30); return null; };
            HookFn read = (x, h) => { if ((int)h.Ctx["run"]! != i) Interlocked.Increment(ref mismatches); return null; };
            model.RunWithHooks(input, (Point, write), (Point, read));
        });
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void PersistentCtxOfRegisteredHooksIsClearedByResetHooks()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        var point = model.GetHookPoint(Point);
        model.AddHook(Point, (x, h) => { h.Ctx["runs"] = (int)(h.Ctx.TryGetValue("runs", out var n) ? n! : 0) + 1; return null; });
        model.Forward(input);
        model.Forward(input);
        Assert.Equal(2, point.Ctx["runs"]); // outside a call context the ctx persists, as in TransformerLens
        model.ResetHooks(clearContexts: false);
        Assert.Equal(2, point.Ctx["runs"]);
        point.Ctx["again"] = 1;
        model.ResetHooks();
        Assert.Empty(point.Ctx);
    }

    [Fact]
    public void ResetHooksRemovesOnlyTheDirectionAndPermanenceAsked()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny");
        int forward = 0, backward = 0, permanent = 0;
        model.AddHook(Point, (x, h) => { forward++; return null; });
        model.AddHook(Point, (g, h) => { backward++; return null; }, HookDirection.Backward);
        model.AddHook(Point, (x, h) => { permanent++; return null; }, permanent: true);
        void Run()
        {
            var loss = model.Forward(input, new ForwardOptions { ReturnType = ReturnType.Loss });
            if (loss.RequiresGrad) loss.Backward(); // only a backward hook makes this pass differentiable here
        }

        Run();
        Assert.Equal((1, 1, 1), (forward, backward, permanent));
        model.ResetHooks(direction: HookDirection.Backward);
        Run();
        Assert.Equal((2, 1, 2), (forward, backward, permanent));
        model.ResetHooks();
        Run();
        Assert.Equal((2, 1, 3), (forward, backward, permanent)); // permanent hooks survive a plain reset
        model.ResetHooks(includePermanent: true);
        Run();
        Assert.Equal((2, 1, 3), (forward, backward, permanent));
    }

    [Fact]
    public void PrependedRegisteredHookRunsFirst()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        var order = new List<string>();
        model.AddHook(Point, (x, h) => { order.Add("first registered"); return null; });
        model.AddHook(Point, (x, h) => { order.Add("prepended"); return null; }, prepend: true);
        model.Forward(HookTestUtil.Input("gpt2-tiny"));
        Assert.Equal(["prepended", "first registered"], order);
    }
}
