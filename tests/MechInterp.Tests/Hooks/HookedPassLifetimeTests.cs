using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>
/// A hooked pass that takes no gradient frees each block's un-hooked intermediates when the block ends, while
/// everything a hook saw or made lives on in the caller's scope. Checked by counting what the caller's scope owns,
/// by reading kept activations after the pass, and by comparing hooked runs against the same runs on the path that
/// frees nothing (parameters requiring gradients).
/// </summary>
public sealed class HookedPassLifetimeTests
{
    private const string Fixture = "gpt2-tiny";
    private static Tensor Input => HookTestUtil.Input(Fixture);

    private static int OwnedAfter(Action run)
    {
        using var scope = Tensor.Scope();
        run();
        return scope.Count;
    }

    [Fact]
    public void UnhookedIntermediatesAreFreedWhenNoGradientIsTaken()
    {
        var model = HookTestUtil.Load(Fixture);
        model.SetRequiresGrad(false);
        int layers = model.Config.NLayers;
        bool ResidPost(string n) => n.EndsWith("hook_resid_post", StringComparison.Ordinal);
        int plain = OwnedAfter(() => model.Forward(Input));
        int hooked = OwnedAfter(() => model.RunWithCache(Input, ResidPost).Cache.Dispose());
        // Each hooked activation adds itself and the cache's detached view; block temporaries (dozens per block) must not stay.
        Assert.True(hooked <= plain + 3 * layers, $"a hooked pass left {hooked} tensors in the caller's scope (plain forward: {plain})");

        // RunWithCache without includeBackward runs without gradients, so it frees even when parameters require them.
        model.SetRequiresGrad(true);
        int graph = OwnedAfter(() => model.RunWithCache(Input, ResidPost).Cache.Dispose());
        Assert.True(graph <= plain + 3 * layers, $"RunWithCache with gradient-requiring parameters kept {graph} tensors");
        // Control: when a gradient may be taken nothing is freed early, and the count is far larger.
        int withGraph = OwnedAfter(() => model.RunWithHooks(Input, new HookSpec(ResidPost, (_, _) => null)));
        Assert.True(withGraph > hooked + 10 * layers, $"control: {withGraph} tensors kept with a graph vs {hooked} without");
    }

    [Fact]
    public void ActivationsAndTensorsAHookKeepsOutliveThePass()
    {
        var model = HookTestUtil.Shared(Fixture);
        using var scope = Tensor.Scope();
        var kept = new Dictionary<string, Tensor>();
        var derived = new Dictionary<string, Tensor>();
        string[] names = ["blocks.0.attn.hook_q", "blocks.0.attn.hook_attn_scores", "blocks.1.mlp.hook_post", "blocks.1.ln2.hook_normalized"];
        using (GradMode.NoGrad())
            model.RunWithHooks(Input, [.. names.Select(n => new HookSpec(n, (x, h) =>
            {
                kept[h.Name] = x;                   // the activation itself, not a copy
                derived[h.Name] = x.Sum(-1);        // a tensor the hook made
                return null;
            }))]);
        var (_, cache) = model.RunWithCache(Input, names.Contains);
        using (cache)
            foreach (var n in names)
            {
                Assert.False(kept[n].IsDisposed, $"{n} was freed with the block");
                // The cache's observers take fused kernels, this editing hook the unfused ops: equal up to rounding.
                HookTestUtil.Identical(kept[n] > -1e30, cache[n] > -1e30, n + " (hidden scores)");
                HookTestUtil.Close(kept[n].Clamp(-1e30), cache[n].Clamp(-1e30), 1e-5, n);
                HookTestUtil.Close(derived[n].Clamp(-1e30), cache[n].Sum(-1).Clamp(-1e30), 1e-4, n + " (derived)");
            }
    }

    public static TheoryData<string> Devices => new() { "cpu", "torch-cpu" };

    [Theory]
    [MemberData(nameof(Devices))]
    public void PatchedRunsMatchThePathThatFreesNothing(string device)
    {
        var model = HookTestUtil.Load(Fixture);
        if (device != "cpu") model.To(Device.Parse(device));
        var input = Input.To(model.Device);
        var donor = model.RunWithCache(input, n => n == "blocks.0.hook_resid_mid").Cache;
        HookSpec[] hooks =
        [
            new("blocks.0.attn.hook_z", (z, _) => z * 0.5),
            new("blocks.1.hook_resid_pre", (r, _) => r + donor["blocks.0.hook_resid_mid"]),
            new("blocks.1.attn.hook_pattern", (p, _) => p * 0.9),
            new("blocks.1.attn.hook_attn_scores", (s, _) => null),
        ];
        model.SetRequiresGrad(false);
        Tensor freeing;
        using (GradMode.NoGrad()) freeing = model.RunWithHooks(input, hooks);
        model.SetRequiresGrad(true);
        var keeping = model.RunWithHooks(input, hooks).Detach();
        HookTestUtil.Close(freeing, keeping, 1e-6, $"patched logits on {device}, freeing vs keeping");
        Assert.True(HookTestUtil.MaxAbsDiff(freeing, model.Forward(input).Detach()) > 1e-3, "the hooks must change the logits");
        donor.Dispose();
    }

    [Theory]
    [MemberData(nameof(HookTestUtil.DecoderData), MemberType = typeof(HookTestUtil))]
    public void CachedScoresAndPatternAgree(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var (_, cache) = model.RunWithCache(HookTestUtil.Input(fixture), n => n.Contains("attn.hook_attn_scores") || n.Contains("attn.hook_pattern"));
        using (cache)
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                var scores = cache["attn_scores", l];
                var pattern = cache["pattern", l];
                // Softmax of the cached (masked) scores is the cached pattern; hidden keys are -inf / 0.
                HookTestUtil.Close(scores.Softmax(-1), pattern, 1e-6, $"{fixture} layer {l}");
                long q = scores.Shape[^2];
                var hidden = Tensor.Arange(q).Unsqueeze(0) > Tensor.Arange(q).Unsqueeze(1); // key > query
                Assert.True(Tensor.Where(hidden, pattern, Tensor.Zeros([])).Abs().Max().Item<float>() == 0f, $"{fixture} layer {l}: future keys got weight");
            }
    }

    [Theory]
    [MemberData(nameof(HookTestUtil.DecoderData), MemberType = typeof(HookTestUtil))]
    public void ObserverCacheEqualsACacheTakenByEditingHooks(string fixture)
    {
        // RunWithCache's hooks are observers, so attention and norms take fused kernels; hooks that may edit force the
        // unfused ops. Both must record the same activations.
        var model = HookTestUtil.Shared(fixture);
        var input = HookTestUtil.Input(fixture);
        var (logits, cache) = model.RunWithCache(input);
        var taken = new Dictionary<string, Tensor>();
        Tensor edited;
        using (GradMode.NoGrad())
            edited = model.RunWithHooks(input, new HookSpec(_ => true, (x, h) => { taken[h.Name] = x.Clone(); return null; }));
        using (cache)
        {
            HookTestUtil.Close(logits, edited, 2e-5, $"{fixture} logits");
            Assert.Equal(taken.Keys.Order(), cache.Keys.Order());
            foreach (var (name, value) in taken)
            {
                if (name.EndsWith("hook_attn_scores", StringComparison.Ordinal))
                {
                    // Same hidden (-inf) entries, and the same finite scores.
                    HookTestUtil.Identical(value > -1e30, cache[name] > -1e30, $"{fixture} {name} mask");
                    HookTestUtil.Close(value.Clamp(-1e30), cache[name].Clamp(-1e30), 2e-5 * Math.Max(1, HookTestUtil.MaxAbs(value.Clamp(-1e30))), $"{fixture} {name}");
                }
                else
                    HookTestUtil.Close(cache[name], value, 2e-5 * Math.Max(1, HookTestUtil.MaxAbs(value)), $"{fixture} {name}");
            }
        }
    }

    [Fact]
    public void ObserversAreTellableFromEditors()
    {
        var model = HookTestUtil.Shared(Fixture);
        var point = model.GetHookPoint("blocks.0.attn.hook_attn_scores");
        Assert.True(point.IsObservedOnly); // nobody listens
        var ctx = new HookContext().AddObserver(point, (_, _) => { });
        using (ctx.Activate())
        {
            Assert.True(point.IsObservedOnly);
            using (new HookContext().Add(point, (x, _) => x * 2).Activate())
                Assert.False(point.IsObservedOnly);
        }
        using (new HookContext().Add(point, (_, _) => null, HookDirection.Backward).Activate())
            Assert.False(point.IsObservedOnly);
    }

    [Theory]
    [InlineData("blocks.0.hook_resid_mid")]
    [InlineData("blocks.1.attn.hook_pattern")]
    public void AHookThatStartsAGradientKeepsTheGraph(string point)
    {
        // Parameters need no gradient, so the pass starts out freeing block temporaries; a hook then adds a perturbation
        // that requires one (attribution by input perturbation). The gradient it gets must equal the gradient of the
        // loss at that activation, as a backward hook on the same point sees it (the path that frees nothing).
        var model = HookTestUtil.Load(Fixture);
        model.SetRequiresGrad(false);
        using var scope = Tensor.Scope();
        var options = new ForwardOptions { ReturnType = ReturnType.Loss };
        Tensor? seen = null;
        model.RunWithHooks(Input, [], [new HookSpec(point, (g, _) => { seen = g.Clone().DetachFromScopes(); return null; })], options);
        Tensor? delta = null;
        var loss = model.RunWithHooks(Input, [new HookSpec(point, (x, _) =>
        {
            delta = Tensor.ZerosLike(x).RequiresGrad_();
            return x + delta;
        })], null, options);
        loss.Backward();
        Assert.NotNull(delta!.Grad);
        HookTestUtil.Close(delta.Grad!, seen!, 1e-6, $"gradient at {point}");
        Assert.True(HookTestUtil.MaxAbs(seen!) > 0, "the gradient must not vanish");
        seen!.Dispose();
    }
}
