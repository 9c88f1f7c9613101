using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;

namespace MechInterp.Tests.Models;

/// <summary>all-MiniLM-L6-v2 imported from ONNX against ONNX Runtime running the same file.</summary>
public sealed class MiniLmOnnxTests(MiniLmFixture fixture, ITestOutputHelper output) : IClassFixture<MiniLmFixture>
{
    private static readonly string[] s_sentences =
    [
        "The cat sits on the mat.",
        "Mechanistic interpretability reverse-engineers neural networks.",
        "How do I reset my password?",
        "A quick brown fox jumps over the lazy dog, twice!",
    ];

    /// <summary>ONNX Runtime's last_hidden_state [L, 384] for one unpadded sequence.</summary>
    private float[] OrtLastHiddenState(long[] ids, long[]? tokenTypes = null)
    {
        int n = ids.Length;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, [1, n])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(Enumerable.Repeat(1L, n).ToArray(), [1, n])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(tokenTypes ?? new long[n], [1, n])),
        };
        using var results = fixture.Session.Run(inputs);
        return results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
    }

    [Fact]
    public void ConfigIsReadFromTheGraph()
    {
        var c = fixture.Model.Config;
        Assert.Equal((6, 384, 12, 32, 1536, 30522, 512), (c.NLayers, c.DModel, c.NHeads, c.DHead, c.DMlp, c.DVocab, c.NCtx));
        Assert.Equal("gelu", c.ActFn);
        Assert.Null(c.AttnScale);
        Assert.False(fixture.Model.HasMlmHead);
        Assert.Equal(2, fixture.Model.NTokenTypes);
    }

    [Fact]
    public void LastHiddenStateMatchesOnnxRuntimeInAPaddedBatch()
    {
        var model = fixture.Model;
        var (tokens, types, mask) = model.ToTokens(s_sentences);
        var (_, cache) = model.RunWithCache(tokens, name => name == "blocks.5.hook_normalized_resid_post",
            options: new EncoderForwardOptions { TokenTypeIds = types, AttentionMask = mask });
        using (cache)
        {
            var ours = cache["blocks.5.hook_normalized_resid_post"].ToArray<float>();
            long len = tokens.Shape[1], d = model.Config.DModel;
            var ids = tokens.ToArray<long>();
            var m = mask.ToArray<long>();
            double worst = 0;
            for (int b = 0; b < s_sentences.Length; b++)
            {
                int n = (int)Enumerable.Range(0, (int)len).Count(p => m[b * len + p] == 1);
                var reference = OrtLastHiddenState(ids.Skip((int)(b * len)).Take(n).ToArray());
                for (int p = 0; p < n; p++)
                    for (int k = 0; k < d; k++)
                        worst = Math.Max(worst, Math.Abs(ours[(b * len + p) * d + k] - reference[p * d + k]));
            }
            output.WriteLine($"MiniLM last_hidden_state vs ONNX Runtime, {s_sentences.Length} sentences right-padded to {len}: max |Δ| = {worst:E2}");
            Assert.True(worst <= 1e-4, $"last hidden state differs from ONNX Runtime by {worst:E2}");
        }
    }

    [Fact]
    public void SentencePairWithSegmentIdsMatchesOnnxRuntime()
    {
        var model = fixture.Model;
        var (tokens, types, mask) = model.ToTokens("Where is the station?", "It is next to the old bridge.");
        var typeValues = types.ToArray<long>();
        Assert.Contains(1L, typeValues);
        var ours = model.Forward(tokens, types, mask).ToArray<float>();
        var reference = OrtLastHiddenState(tokens.ToArray<long>(), typeValues);
        double worst = ours.Zip(reference, (a, b) => (double)Math.Abs(a - b)).Max();
        output.WriteLine($"MiniLM sentence pair (token types 0/1) vs ONNX Runtime: max |Δ| = {worst:E2}");
        Assert.True(worst <= 1e-4, $"sentence-pair hidden state differs from ONNX Runtime by {worst:E2}");
        Assert.Throws<InvalidOperationException>(() => model.Forward(tokens, new EncoderForwardOptions { ReturnType = ReturnType.Loss }));
    }

    [Fact]
    public void MeanPooledEmbeddingsRankParaphrasesAboveUnrelatedPairs()
    {
        (string, string)[] paraphrases =
        [
            ("The cat sits on the mat.", "A cat is sitting on a mat."),
            ("How do I reset my password?", "What is the way to change my password?"),
            ("The stock market fell sharply today.", "Share prices dropped steeply today."),
        ];
        (string, string)[] unrelated =
        [
            ("The cat sits on the mat.", "Share prices dropped steeply today."),
            ("How do I reset my password?", "A cat is sitting on a mat."),
            ("The stock market fell sharply today.", "What is the way to change my password?"),
        ];
        var texts = paraphrases.Concat(unrelated).SelectMany(p => new[] { p.Item1, p.Item2 }).Distinct().ToArray();
        var embeddings = Embed(texts);
        double Similarity((string A, string B) pair) => Cosine(embeddings[Array.IndexOf(texts, pair.A)], embeddings[Array.IndexOf(texts, pair.B)]);
        double worstParaphrase = paraphrases.Min(Similarity), bestUnrelated = unrelated.Max(Similarity);
        output.WriteLine($"lowest paraphrase cosine {worstParaphrase:F3}, highest unrelated cosine {bestUnrelated:F3}");
        Assert.True(worstParaphrase > bestUnrelated + 0.1, $"paraphrases ({worstParaphrase:F3}) should score well above unrelated pairs ({bestUnrelated:F3})");
    }

    /// <summary>Sentence-transformers pooling: the mean of the last hidden state over real tokens.</summary>
    private double[][] Embed(string[] texts)
    {
        var model = fixture.Model;
        var (tokens, types, mask) = model.ToTokens(texts);
        var hidden = model.Forward(tokens, types, mask).ToArray<float>();
        var m = mask.ToArray<long>();
        long len = tokens.Shape[1];
        int d = model.Config.DModel;
        var result = new double[texts.Length][];
        for (int b = 0; b < texts.Length; b++)
        {
            var sum = new double[d];
            int count = 0;
            for (int p = 0; p < len; p++)
            {
                if (m[b * len + p] == 0) continue;
                count++;
                for (int k = 0; k < d; k++) sum[k] += hidden[(b * len + p) * d + k];
            }
            result[b] = sum.Select(x => x / count).ToArray();
        }
        return result;
    }

    private static double Cosine(double[] a, double[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }
}
