using Xunit;

namespace MechInterp.Tests.Hooks;

/// <summary>Freezes every fixture's hook names, their forward order and shapes (TransformerLens's), and the optional
/// hook points behind config switches.</summary>
public sealed class HookNameShapeTests
{
    public static TheoryData<string> Decoders() => HookTestUtil.DecoderData();

    private static List<(string Name, long[] Shape)> Recorded(HookedTransformer model, Tensor input, out Tensor logits)
    {
        var (l, cache) = model.RunWithCache(input);
        logits = l;
        using (cache) return cache.Keys.Select(k => (k, cache[k].Shape)).ToList();
    }

    private static void AssertSameTable(IReadOnlyList<(string Name, long[] Shape)> expected, IReadOnlyList<(string Name, long[] Shape)> actual)
    {
        string Show(IEnumerable<(string Name, long[] Shape)> t) => string.Join("\n", t.Select(e => $"{e.Name} [{string.Join(",", e.Shape)}]"));
        Assert.Equal(Show(expected), Show(actual));
    }

    [Theory, MemberData(nameof(Decoders))]
    public void RunWithCacheRecordsExactlyTheTransformerLensHooksInForwardOrder(string fixture)
    {
        var model = HookTestUtil.Shared(fixture);
        var expected = HookTables.For(fixture);
        AssertSameTable(expected, Recorded(model, HookTestUtil.Input(fixture), out _));
        // The model's hook dictionary holds the same names (it is ordered by registration, not by execution).
        Assert.Equal(expected.Select(e => e.Name).Order(StringComparer.Ordinal), model.HookDict.Keys.Order(StringComparer.Ordinal));
    }

    private static List<(string Name, long[] Shape)> InsertAfter(IEnumerable<(string Name, long[] Shape)> table, string suffix, params string[] lines)
    {
        var result = new List<(string, long[])>();
        foreach (var e in table)
        {
            result.Add(e);
            if (e.Name.EndsWith("." + suffix, StringComparison.Ordinal))
            {
                string prefix = e.Name[..^suffix.Length];
                result.AddRange(lines.Select(l => HookTables.Parse(prefix + l)));
            }
        }
        return result;
    }

    private static List<(string Name, long[] Shape)> Reshape(IEnumerable<(string Name, long[] Shape)> table, string suffix, long[] shape) =>
        table.Select(e => e.Name.EndsWith(suffix, StringComparison.Ordinal) ? (e.Name, shape) : e).ToList();

    public static TheoryData<string, string> SwitchCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in new[] { "gpt2-tiny", "pythia-tiny", "llama-tiny" })
            foreach (var s in new[] { "UseAttnResult", "UseSplitQkvInput", "UseAttnIn", "UseHookMlpIn", "All" })
                data.Add(m, s);
        return data;
    }

    [Theory, MemberData(nameof(SwitchCases))]
    public void OptionalHooksAppearWithTheirShapesAndKeepTheOracleLogits(string fixture, string switchName)
    {
        var model = HookTestUtil.Load(fixture, new LoadOptions
        {
            ConfigureConfig = c => switchName switch
            {
                "UseAttnResult" => c with { UseAttnResult = true },
                "UseSplitQkvInput" => c with { UseSplitQkvInput = true },
                "UseAttnIn" => c with { UseAttnIn = true },
                "UseHookMlpIn" => c with { UseHookMlpIn = true },
                _ => c with { UseAttnResult = true, UseSplitQkvInput = true, UseHookMlpIn = true },
            },
        });
        long kv = model.Config.KvHeads;
        bool all = switchName == "All";
        IEnumerable<(string Name, long[] Shape)> expected = HookTables.For(fixture);
        if (switchName is "UseSplitQkvInput" || all)
        {
            expected = InsertAfter(expected, "hook_resid_pre", "hook_q_input 2,12,4,64", $"hook_k_input 2,12,{kv},64", $"hook_v_input 2,12,{kv},64");
            // ln1 runs on each per-head input; the cache keeps the last (value) call, as TransformerLens's does.
            expected = Reshape(Reshape(expected, "ln1.hook_scale", [2, 12, kv, 1]), "ln1.hook_normalized", [2, 12, kv, 64]);
        }
        if (switchName is "UseAttnIn")
        {
            expected = InsertAfter(expected, "hook_resid_pre", "hook_attn_in 2,12,4,64");
            expected = Reshape(Reshape(expected, "ln1.hook_scale", [2, 12, kv, 1]), "ln1.hook_normalized", [2, 12, kv, 64]);
        }
        if (switchName is "UseAttnResult" || all)
            expected = InsertAfter(expected, "attn.hook_z", "attn.hook_result 2,12,4,64");
        if (switchName is "UseHookMlpIn" || all)
            expected = model.Config.ParallelAttnMlp
                ? InsertAfter(expected, "hook_attn_out", "hook_mlp_in 2,12,64")
                : InsertAfter(expected, "hook_resid_mid", "hook_mlp_in 2,12,64");

        var (input, oracle) = HookTestUtil.Reference(fixture);
        AssertSameTable(expected.ToList(), Recorded(model, input, out var logits));
        HookTestUtil.Close(logits, oracle, 1e-4, $"{fixture} logits with {switchName}");
        HookTestUtil.Close(model.Forward(input), oracle, 1e-4, $"{fixture} logits with {switchName}, no hooks");
    }

    [Fact]
    public void HookResultSumsToAttnOutMinusBias()
    {
        var model = HookTestUtil.Load("llama-tiny", new LoadOptions { ConfigureConfig = c => c with { UseAttnResult = true } });
        var (_, cache) = model.RunWithCache(HookTestUtil.Input("llama-tiny"));
        using (cache)
            for (int l = 0; l < 2; l++)
                HookTestUtil.Close(cache["result", l].Sum(2) + model.Blocks[l].Attn.b_O, cache["attn_out", l], 1e-5, $"layer {l}");
    }

    [Fact]
    public void ActNameBuildsTheTableNames()
    {
        Assert.Equal("blocks.3.attn.hook_pattern", ActName.Pattern(3));
        Assert.Equal("blocks.0.ln1.hook_scale", ActName.Get("scale", 0, "ln1"));
        Assert.Equal("ln_final.hook_normalized", ActName.Get("normalized"));
        Assert.Equal("blocks.1.mlp.hook_pre_linear", ActName.Get("pre_linear", 1));
        Assert.Equal("hook_pos_embed", ActName.PosEmbed);
        var names = HookTables.For("gemma2-tiny").Select(e => e.Name).ToHashSet();
        foreach (var n in new[] { ActName.ResidPre(1), ActName.ResidMid(1), ActName.ResidPost(1), ActName.AttnOut(0), ActName.MlpOut(0),
                     ActName.Q(0), ActName.K(0), ActName.V(0), ActName.Z(0), ActName.AttnScores(1), ActName.MlpPre(0), ActName.MlpPost(1),
                     ActName.Get("rot_q", 0), ActName.Get("rot_k", 1), ActName.Embed })
            Assert.Contains(n, names);
        Assert.Throws<ArgumentException>(() => ActName.Get("pattern"));
        Assert.Throws<ArgumentException>(() => ActName.Get("patern", 0));
    }
}
