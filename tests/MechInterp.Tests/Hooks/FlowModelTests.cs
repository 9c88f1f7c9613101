using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>One flow model: hook contexts, tensor scopes and the gradient mode are all AsyncLocal, so a hooked
/// forward pass behaves the same after an <c>await</c> (possibly on another thread), concurrent flows stay apart, and
/// work forked inside a scope allocates into it safely.</summary>
public sealed class FlowModelTests
{
    private const string Fixture = "gpt2-tiny";
    private static Tensor Input => HookTestUtil.Input(Fixture);
    private static HookSpec ZeroHeads => new("blocks.0.attn.hook_z", (z, _) => z * 0);

    [Fact]
    public async Task HookedForwardAcrossAwaitKeepsHooksScopeAndGradMode()
    {
        var model = HookTestUtil.Shared(Fixture);
        var expected = model.RunWithHooks(Input, ZeroHeads);
        var clean = model.Forward(Input);
        Tensor got;
        using (model.Hooks([ZeroHeads]))
        {
            using var scope = Tensor.Scope();
            using (GradMode.NoGrad())
            {
                int before = Environment.CurrentManagedThreadId;
                await Task.Delay(10);
                await Task.Yield();
                Assert.False(GradMode.IsEnabled, $"NoGrad lost across await (thread {before} -> {Environment.CurrentManagedThreadId})");
                got = model.Forward(Input);
                Assert.False(got.RequiresGrad);
                HookTestUtil.Close(got, expected, 1e-6, "hooked forward after await");
                Assert.True(HookTestUtil.MaxAbsDiff(got, clean) > 1e-2, "the hook must still act after await");
                Assert.True(scope.Owns(got), "the scope opened before the await owns the output");
            }
            Assert.True(GradMode.IsEnabled);
        }
        Assert.True(got.IsDisposed, "disposing the scope frees what was made after the await");
        HookTestUtil.Close(model.Forward(Input), clean, 0, "hooks gone after the block");
    }

    [Fact]
    public async Task ConcurrentFlowsDoNotSeeEachOthersModeOrScope()
    {
        using var barrier = new Barrier(2);
        var noGrad = Task.Run(() =>
        {
            using var scope = Tensor.Scope();
            using (GradMode.NoGrad())
            {
                barrier.SignalAndWait();
                var t = Tensor.Ones([3]);
                barrier.SignalAndWait();
                return (GradMode.IsEnabled, scope.Owns(t), scope.Count);
            }
        });
        var plain = Task.Run(() =>
        {
            barrier.SignalAndWait();
            var t = Tensor.Ones([3]).RequiresGrad_();
            bool enabled = GradMode.IsEnabled;
            var y = (t * 2).Sum();
            barrier.SignalAndWait();
            return (enabled, y.RequiresGrad, t.IsDisposed);
        });
        var a = await noGrad;
        var b = await plain;
        Assert.Equal((false, true, 1), a);
        Assert.Equal((true, true, false), b);
    }

    [Fact]
    public void WorkForkedInsideAScopeAllocatesIntoItFromManyThreads()
    {
        var made = new System.Collections.Concurrent.ConcurrentBag<Tensor>();
        using (var scope = Tensor.Scope())
        {
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ =>
            {
                for (int i = 0; i < 500; i++) made.Add(Tensor.Zeros([2]));
            });
            Assert.Equal(4000, scope.Count);
        }
        Assert.All(made, t => Assert.True(t.IsDisposed));
    }
}
