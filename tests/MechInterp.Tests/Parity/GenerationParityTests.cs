using MechInterp.Tests.Hooks;
using Xunit;

namespace MechInterp.Tests.Parity;

/// <summary>Generation as TransformerLens offers it: frequency penalty, several stop ids, list-of-strings prompts,
/// streaming, special-token-free decoding and the step index hooks see. Expectations are computed by hand from one
/// forward pass, or are identities between two ways of generating.</summary>
public sealed class GenerationParityTests
{
    private static Tensor Prompt => HookTestUtil.Input("gpt2-tiny").Narrow(0, 0, 1); // [1, 12]

    [Fact]
    public void FreqPenaltySubtractsCountsOfTheSequenceFromTheLogits()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var prompt = Prompt;
        var last = model.Forward(prompt).Select(1, 11).Reshape(-1).ToArray<double>(); // [512]
        var ids = prompt.ToArray<long>();
        foreach (double penalty in new[] { 0.0, 0.5, 3.0 })
        {
            int best = 0;
            double bestValue = double.NegativeInfinity;
            for (int v = 0; v < last.Length; v++)
            {
                double value = last[v] - penalty * ids.Count(i => i == v);
                if (value > bestValue) { bestValue = value; best = v; }
            }
            var generated = model.Generate(prompt, new GenerateOptions { MaxNewTokens = 1, FreqPenalty = penalty });
            Assert.Equal(best, generated.ToArray<long>()[12]);
        }
        var never = model.Generate(prompt, new GenerateOptions { MaxNewTokens = 8, FreqPenalty = 1e6 }).ToArray<long>();
        Assert.Equal(20, never.Distinct().Count() + ids.Length - ids.Distinct().Count()); // no token repeats what came before
    }

    [Fact]
    public void SeveralStopIdsEndTheGeneration()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var free = model.Generate(Prompt, new GenerateOptions { MaxNewTokens = 6 }).ToArray<long>();
        long third = free[14];
        int stopAt = Array.IndexOf(free, third, 12); // the first time that token is produced
        var stopped = model.Generate(Prompt, new GenerateOptions { MaxNewTokens = 6, StopAtEos = true, EosTokenIds = [511, (int)third] });
        Assert.Equal(free[..(stopAt + 1)], stopped.ToArray<long>());
    }

    [Fact]
    public async Task StreamingYieldsTheSameTokensAsGenerate()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var input = HookTestUtil.Input("gpt2-tiny"); // [2, 12]
        var whole = model.Generate(input, new GenerateOptions { MaxNewTokens = 5 });
        var streamed = new List<long[]>();
        await foreach (var step in model.GenerateStreamAsync(input, new GenerateOptions { MaxNewTokens = 5 })) streamed.Add(step);
        Assert.Equal(5, streamed.Count);
        for (int s = 0; s < 5; s++)
            Assert.Equal(whole.Select(1, 12 + s).ToArray<long>(), streamed[s]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HooksSeeTheGenerationStep(bool useKvCache)
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        var seen = new List<(int Step, long Offset, long Positions, long FirstNew)>();
        HookFn record = (x, h) =>
        {
            var g = h.GenerationStep!;
            seen.Add((g.Index, g.PassOffset, x.Shape[1], g.FirstNewPositionInPass));
            return null;
        };
        using (model.Hooks(("blocks.0.hook_resid_pre", record)))
            model.Generate(Prompt, new GenerateOptions { MaxNewTokens = 3, UseKvCache = useKvCache });
        (int, long, long, long)[] expected = useKvCache
            ? [(0, 0, 12, 12), (1, 12, 1, 0), (2, 13, 1, 0)]
            : [(0, 0, 12, 12), (1, 0, 13, 12), (2, 0, 14, 12)];
        Assert.Equal(expected, seen);
        Assert.Null(model.GetHookPoint("blocks.0.hook_resid_pre").GenerationStep);
    }

    [Fact]
    public void SteeringOnlyNewTokensLeavesThePromptPassAlone()
    {
        var model = HookTestUtil.Shared("gpt2-tiny");
        HookFn steer = (x, h) =>
        {
            long first = h.GenerationStep!.FirstNewPositionInPass;
            if (first >= x.Shape[1]) return null;
            var perPosition = Enumerable.Range(0, (int)x.Shape[1]).Select(p => p >= first ? 100f : 0f).ToArray();
            var towards7 = model.TokensToResidualDirections(7).Reshape(1, 1, 64); // a direction LayerNorm does not remove
            return x + Tensor.FromArray(perPosition, 1, x.Shape[1], 1).To(x.Device) * towards7; // [1, pos, 64]
        };
        var plain = model.Generate(Prompt, new GenerateOptions { MaxNewTokens = 4 }).ToArray<long>();
        long[] steered;
        using (model.Hooks(("blocks.1.hook_resid_post", steer)))
            steered = model.Generate(Prompt, new GenerateOptions { MaxNewTokens = 4 }).ToArray<long>();
        Assert.Equal(plain[..13], steered[..13]); // the first new token comes from the prompt pass: unsteered
        Assert.NotEqual(plain[13..], steered[13..]);
        Assert.Equal([7L, 7, 7], steered[13..]); // once steered, the residual points at token 7
    }

    [Fact]
    public void ListsOfPromptsAreLeftPaddedAndDecodedWithoutPadding()
    {
        var model = HookTestUtil.Load("gpt2-tiny");
        model.Tokenizer = new CharTokenizer();
        var options = new GenerateOptions { MaxNewTokens = 4 };
        var batch = model.Generate(["Hi", "Hello there"], options);
        Assert.Equal(model.Generate("Hi", options), batch[0]);
        Assert.Equal(model.Generate("Hello there", options), batch[1]);
        Assert.StartsWith("Hi", batch[0]);

        var ids = Tensor.FromArray(new long[] { CharTokenizer.Bos, CharTokenizer.Id('a'), CharTokenizer.Eos, CharTokenizer.Pad, CharTokenizer.Id('b') }, 1, 5);
        Assert.Equal("ab", model.ToString(ids, skipSpecialTokens: true));
        Assert.Equal("<bos>a<eos><pad>b", model.ToString(ids, skipSpecialTokens: false));
        Assert.Equal(["ab", "ba"], model.ToStrings(Tensor.FromArray(new long[] { CharTokenizer.Id('a'), CharTokenizer.Id('b'), CharTokenizer.Id('b'), CharTokenizer.Id('a') }, 2, 2)));
    }
}
