using System.Collections.Concurrent;
using MechInterp.Tests.Models;
using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Fixture models and inputs shared by the hook, cache, processing and forward-option tests.</summary>
internal static class HookTestUtil
{
    private static readonly ConcurrentDictionary<string, Lazy<HookedTransformer>> s_shared = new();
    private static readonly ConcurrentDictionary<string, Lazy<(Tensor Input, Tensor Logits)>> s_references = new();

    /// <summary>The ten decoder fixtures (folder names).</summary>
    public static string[] Decoders => DecoderParityTests.Models;

    public static TheoryData<string> DecoderData()
    {
        var data = new TheoryData<string>();
        foreach (var m in Decoders) data.Add(m);
        return data;
    }

    public static string Dir(string fixture) => Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);

    /// <summary>A fresh model (use when the test registers hooks on the model or processes its weights).</summary>
    public static HookedTransformer Load(string fixture, LoadOptions? options = null) =>
        HookedTransformer.FromPretrained(Dir(fixture), options);

    /// <summary>A model shared between tests: only per-call hooks (RunWithHooks, RunWithCache, Hooks()) may touch it.</summary>
    public static HookedTransformer Shared(string fixture) =>
        s_shared.GetOrAdd(fixture, f => new Lazy<HookedTransformer>(() => Load(f))).Value;

    /// <summary>The fixture's input ids [2, 12] and the oracle's logits [2, 12, 512].</summary>
    public static (Tensor Input, Tensor Logits) Reference(string fixture) =>
        s_references.GetOrAdd(fixture, f => new Lazy<(Tensor, Tensor)>(() =>
        {
            using var r = new FixtureReference(f);
            return (r.Tensor("input_ids").DetachFromScopes(), r.Tensor("logits").DetachFromScopes());
        })).Value;

    public static Tensor Input(string fixture) => Reference(fixture).Input;

    public static double MaxAbsDiff(Tensor a, Tensor b) => FixtureReference.MaxAbsDiff(a, b);

    public static void Close(Tensor actual, Tensor expected, double tol, string what)
    {
        double d = MaxAbsDiff(actual, expected);
        Assert.True(d <= tol, $"{what}: max |diff| = {d:E3} > {tol:E1}");
    }

    /// <summary>Same shape and bit-equal values (infinities included, as in masked attention scores).</summary>
    public static void Identical(Tensor actual, Tensor expected, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var a = actual.To(Device.Cpu).ToArray<double>();
        var e = expected.To(Device.Cpu).ToArray<double>();
        for (int i = 0; i < a.Length; i++)
            if (!a[i].Equals(e[i])) Assert.Fail($"{what}: element {i} is {a[i]} instead of {e[i]}");
    }

    /// <summary>Max |x| over all elements.</summary>
    public static double MaxAbs(Tensor t) => t.To(Device.Cpu).ToArray<double>().Select(Math.Abs).DefaultIfEmpty(0).Max();
}
