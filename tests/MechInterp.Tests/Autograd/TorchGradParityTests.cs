using MechInterp.Tests.Torch;
using Xunit;

namespace MechInterp.Tests.Autograd;

/// <summary>The same graphs differentiated on the managed backend and on libtorch (Device.TorchCpu), float32:
/// the gradients must agree (the managed ones are themselves checked against finite differences).</summary>
public class TorchGradParityTests
{
    private static readonly Dictionary<string, GradCase> Cases = new()
    {
        ["mul/div broadcast"] = new(x => x[0] * x[1] / (x[1].Square() + 1.0), Arg.Of(3, 4), Arg.Of(4)),
        ["exp, tanh, sigmoid, gelu, silu"] = new(x => x[0].Exp() + x[0].Tanh() * x[0].Sigmoid() + x[0].Gelu() - x[0].Silu() + x[0].GeluTanh(), Arg.Of(3, 4)),
        ["relu, abs, clamp, maximum"] = new(x => x[0].Relu() + x[0].Abs() * x[0].Clamp(-0.5, 0.5) + Tensor.Maximum(x[0], x[1]), Arg.AwayFromZero(3, 4), Arg.Of(3, 4)),
        ["sum/mean/max/logsumexp"] = new(x => x[0].Sum(1) + x[0].Mean(1) * x[0].Max(1) + x[0].LogSumExp(1), Arg.Of(3, 5)),
        ["var/std/norm/cumsum"] = new(x => x[0].Var(0) + x[0].Std(0) + x[0].Norm(2, 0) + x[0].CumSum(0).Sum(0), Arg.Of(4, 3)),
        ["batched matmul, transposed"] = new(x => x[0].MatMul(x[1].Transpose(1, 2)), Arg.Of(2, 3, 4), Arg.Of(2, 5, 4)),
        ["einsum bpd,hde->bphe"] = new(x => Tensor.Einsum("bpd,hde->bphe", x[0], x[1]), Arg.Of(2, 3, 4), Arg.Of(2, 4, 3)),
        ["softmax, log_softmax"] = new(x => x[0].Softmax(-1) * x[0].LogSoftmax(0), Arg.Of(3, 5)),
        ["layer_norm affine"] = new(x => x[0].LayerNorm(x[1], x[2]), Arg.Of(2, 3, 6), Arg.Of(6), Arg.Of(6)),
        ["rms_norm weight"] = new(x => x[0].RmsNorm(x[1]), Arg.Of(3, 6), Arg.Of(6)),
        ["cross_entropy"] = new(x => Tensor.CrossEntropy(x[0], Tensor.FromArray(new long[] { 1, 0, 3, 2 }, [4], DType.Int64, x[0].Device)), Arg.Of(4, 5)),
        ["views, slice step, indexer"] = new(x => x[0].Permute(1, 0).Slice(0, 0, 4, 2)[.., 1..3].Reshape(-1), Arg.Of(3, 4)),
        ["concat, split, index_select, gather"] = new(x =>
        {
            var idx = Tensor.FromArray(new long[] { 2, 0, 2 }, [3], DType.Int64, x[0].Device);
            var g = Tensor.FromArray(new long[] { 1, 0, 1, 1, 0, 0 }, [3, 2], DType.Int64, x[0].Device);
            var parts = Tensor.Concat([x[0], x[1]], 1).Split(3, 1);
            return parts[0].IndexSelect(0, idx) * 2.0 + parts[1].Gather(1, g).Sum(1, keepDim: true);
        }, Arg.Of(3, 2), Arg.Of(3, 4)),
        ["topk, sort"] = new(x => x[0].TopK(2).Values.Sum(-1) + x[0].Sort(0).Values.Sum(0)[..3], Arg.Of(3, 4)),
    };

    public static TheoryData<string> Names => GradCheck.Names(Cases);

    private static double[][] Gradients(GradCase c, Device device)
    {
        using var scope = Tensor.Scope();
        var leaves = c.Args.Select((a, k) =>
            Tensor.FromArray(GradCheck.Values(a, 1000 + (ulong)k * 7919).Select(v => (float)v).ToArray(), a.Shape, DType.Float32, device).RequiresGrad_()).ToArray();
        var output = c.F(leaves);
        Assert.Equal(device, output.Device);
        var w = Tensor.FromArray(GradCheck.Values(new Arg(output.Shape, -1, 1), 77).Select(v => (float)v).ToArray(), output.Shape, DType.Float32, device);
        (output * w).Sum().Backward();
        return leaves.Select(l =>
        {
            Assert.NotNull(l.Grad);
            Assert.Equal(device, l.Grad!.Device);
            Assert.Equal(DType.Float32, l.Grad.DType);
            return l.Grad.ToArray<double>();
        }).ToArray();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void TorchGradientsEqualManagedGradients(string name)
    {
        var c = Cases[name];
        var managed = Gradients(c, Device.Cpu);
        var torch = Gradients(c, Device.TorchCpu);
        for (int k = 0; k < managed.Length; k++)
            ParityHarness.AssertClose($"{name}: gradient of input {k}", managed[k], torch[k], 1e-5, 1e-6);
    }

    [Fact]
    public void GradientsFlowAcrossDeviceCopies() =>
        GradCheck.Run("managed → torch → managed", new(x => x[0].To(Device.TorchCpu).Square().Sin().To(Device.Cpu) * x[0], Arg.Of(2, 3)));

    [Fact]
    public void HooksRetainGradAndAccumulationWorkOnTorch()
    {
        using var scope = Tensor.Scope();
        var x = Tensor.FromArray(new float[] { 1, 2, 3 }, [3], DType.Float32, Device.TorchCpu).RequiresGrad_();
        var y = (x * 2.0).RetainGrad();
        using (y.RegisterGradHook(g => g * 10.0))
            y.Square().Sum().Backward();        // dL/dy = 2y = 4x; hook ×10; dy/dx = 2
        Assert.Equal(new[] { 40f, 80, 120 }, y.Grad!.ToArray<float>());
        Assert.Equal(new[] { 80f, 160, 240 }, x.Grad!.ToArray<float>());
        (x * 1.0).Sum().Backward();
        Assert.Equal(new[] { 81f, 161, 241 }, x.Grad!.ToArray<float>());
        using (GradMode.NoGrad()) Assert.False((x * 2.0).RequiresGrad);
        Assert.False(x.Detach().RequiresGrad);
    }
}
