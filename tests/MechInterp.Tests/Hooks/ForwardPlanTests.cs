using MechInterp.Models;
using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>The per-pass plan: how each hook point is used is decided once per pass from the hooks, observers,
/// modules and backward hooks that can see it; an observer that edits its activation is caught.</summary>
public sealed class ForwardPlanTests
{
    private const string Fixture = "gpt2-tiny";
    private static Tensor Input => HookTestUtil.Input(Fixture);

    [Fact]
    public void UseOfAPointFollowsWhatCanSeeItAndIsFixedForThePass()
    {
        var model = HookTestUtil.Load(Fixture);
        var point = model.GetHookPoint("blocks.0.attn.hook_pattern");
        Assert.Equal(HookUse.Unhooked, ForwardPlan.Begin().UseOf(point));

        var observing = new HookContext().AddObserver(point, (_, _) => { });
        using (observing.Activate()) Assert.Equal(HookUse.Observed, ForwardPlan.Begin().UseOf(point));

        var editing = new HookContext().Add(point, (x, _) => x * 1);
        using (editing.Activate()) Assert.Equal(HookUse.Edited, ForwardPlan.Begin().UseOf(point));

        var backward = new HookContext().Add(point, (g, _) => null, HookDirection.Backward);
        using (backward.Activate()) Assert.Equal(HookUse.Edited, ForwardPlan.Begin().UseOf(point));

        var plan = ForwardPlan.Begin();
        Assert.Equal(HookUse.Unhooked, plan.UseOf(point));
        using (model.AddHook(point.Name, (x, _) => x))
        {
            Assert.Equal(HookUse.Unhooked, plan.UseOf(point)); // decided for this pass already
            Assert.Equal(HookUse.Edited, ForwardPlan.Begin().UseOf(point));
        }
    }

    [Fact]
    public void AnObserverThatWritesIntoItsActivationIsCaught()
    {
        var model = HookTestUtil.Shared(Fixture);
        var point = model.GetHookPoint("blocks.1.hook_resid_pre");
        var ctx = new HookContext().AddObserver(point, (x, _) => x.CopyInPlace(Tensor.ZerosLike(x)));
        using var active = ctx.Activate();
        using var noGrad = GradMode.NoGrad();
        var e = Assert.Throws<ObserverEditedException>(() => model.Forward(Input));
        Assert.Equal("blocks.1.hook_resid_pre", e.HookName);
        Assert.Contains("Register an editing hook", e.Message);
    }

    [Fact]
    public void AnObserverThatOnlyReadsPassesAndSeesTheExactValue()
    {
        var model = HookTestUtil.Shared(Fixture);
        var point = model.GetHookPoint("blocks.1.attn.hook_pattern");
        Tensor? seen = null;
        var ctx = new HookContext().AddObserver(point, (x, _) => seen = x.Clone());
        using (ctx.Activate())
        using (GradMode.NoGrad())
            model.Forward(Input);
        var byHook = model.RunWithHooks(Input, new HookSpec(point.Name, (x, _) => { seen ??= null; return null; }));
        var (_, cache) = model.RunWithCache(Input, n => n == point.Name);
        HookTestUtil.Close(seen!, cache[point.Name], 0, "observer vs cache");
        Assert.Equal(0, HookTestUtil.MaxAbsDiff(byHook, model.Forward(Input)), 5);
    }
}
