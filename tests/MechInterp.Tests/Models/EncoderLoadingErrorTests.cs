using MechInterp.Loading.Onnx;
using Xunit;

namespace MechInterp.Tests.Models;

/// <summary>Bad input to the encoder loaders fails with exceptions that name the problem.</summary>
public sealed class EncoderLoadingErrorTests
{
    [Fact]
    public void NonOnnxBytesAreRejected()
    {
        var e = Assert.Throws<OnnxFormatException>(() => HookedEncoder.FromOnnx(new byte[] { 0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2 }));
        Assert.Contains("ONNX", e.Message);
        Assert.Throws<OnnxFormatException>(() => HookedEncoder.FromOnnx(System.Text.Encoding.UTF8.GetBytes("{\"not\": \"onnx\"}")));
    }

    [Fact]
    public void DecoderLoaderPointsBertCheckpointsToTheEncoder()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert-tiny");
        var e = Assert.Throws<NotSupportedException>(() => HookedTransformer.FromPretrained(dir));
        Assert.Contains("HookedEncoder.FromPretrained", e.Message);
    }

    [Fact]
    public void EncoderRejectsDecoderCheckpointsAndWrongShapedInputs()
    {
        var gpt2 = Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2-tiny");
        Assert.Throws<UnsupportedArchitectureException>(() => HookedEncoder.FromPretrained(gpt2));
        var model = HookedEncoder.FromPretrained(Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert-tiny"));
        var tokens = Tensor.FromArray(new long[] { 1, 2, 3 }, 1, 3);
        Assert.Throws<ArgumentException>(() => model.Forward(tokens, attentionMask: Tensor.FromArray(new long[] { 1, 1 }, 1, 2)));
        Assert.Throws<ArgumentException>(() => model.Forward(tokens, Tensor.FromArray(new long[] { 0, 2, 0 }, 1, 3)));
        Assert.Throws<ArgumentException>(() => model.Forward(Tensor.FromArray(new long[] { 1, 600 }, 1, 2)));
        Assert.Throws<ArgumentException>(() => model.Forward(Tensor.Zeros([1, 40], DType.Int64)));
    }
}
