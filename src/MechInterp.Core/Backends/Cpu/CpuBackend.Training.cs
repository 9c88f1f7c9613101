using System.Numerics;
using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Backends.Cpu;

internal sealed partial class CpuBackend
{
    /// <inheritdoc />
    public TensorHandle UnaryBackward(UnaryGradOp op, TensorHandle grad, TensorHandle x)
    {
        CpuHandle hg = H(grad), hx = H(x);
        if (hg.DType != hx.DType)
            throw new ArgumentException($"UnaryBackward {op}: gradient and input dtypes differ ({hg.DType} and {hx.DType})");
        var shape = (long[])hx.ShapeArray.Clone();
        return hx.DType switch
        {
            DType.Float32 => UnaryBackwardTyped<float>(op, hg, hx, shape),
            DType.Float64 => UnaryBackwardTyped<double>(op, hg, hx, shape),
            _ => throw Unsupported($"UnaryBackward {op}", hx.DType),
        };
    }

    private static CpuHandle UnaryBackwardTyped<T>(UnaryGradOp op, CpuHandle g, CpuHandle x, long[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = CpuHandle.Allocate(x.DType, shape);
        var plan = StridedPlan.ForOutput(shape, g, x);
        long sg = plan.InnerStride(1), sx = plan.InnerStride(2);
        CpuStorage Gs = g.Storage, Xs = x.Storage, Os = result.Storage;
        bool smooth = op is UnaryGradOp.GeluTanh or UnaryGradOp.Silu or UnaryGradOp.Gelu;
        plan.Run((offs, n) =>
        {
            if (smooth) SmoothActivationGrads.Row(op, Gs.Span<T>(), offs[1], sg, Xs.Span<T>(), offs[2], sx, Os.Span<T>().Slice((int)offs[0], n));
            else ActivationGrads.Row(op, Gs.Span<T>(), offs[1], sg, Xs.Span<T>(), offs[2], sx, Os.Span<T>().Slice((int)offs[0], n));
        }, ElementwiseThreshold);
        return result;
    }

    /// <inheritdoc />
    public void AdamStepInPlace(TensorHandle param, TensorHandle grad, TensorHandle expAvg, TensorHandle expAvgSq, AdamStepArgs args)
    {
        CpuHandle p = H(param), g = H(grad), m = H(expAvg), v = H(expAvgSq);
        foreach (var h in (ReadOnlySpan<CpuHandle>)[g, m, v])
        {
            if (h.DType != p.DType || !h.ShapeArray.AsSpan().SequenceEqual(p.ShapeArray))
                throw new ArgumentException($"AdamStepInPlace: every operand needs the parameter's shape and dtype ({Tensor.ShapeString(p.ShapeArray)}, {p.DType}); got {Tensor.ShapeString(h.ShapeArray)}, {h.DType}");
        }
        foreach (var h in (ReadOnlySpan<CpuHandle>)[p, g, m, v])
            if (!h.IsContiguous) throw new ArgumentException("AdamStepInPlace needs contiguous operands on the managed CPU backend");
        foreach (var h in (ReadOnlySpan<CpuHandle>)[p, m, v]) h.Storage.MarkWritten();
        switch (p.DType)
        {
            case DType.Float32: AdamTyped<float>(p, g, m, v, args); break;
            case DType.Float64: AdamTyped<double>(p, g, m, v, args); break;
            default: throw Unsupported("AdamStepInPlace", p.DType);
        }
    }

    private static void AdamTyped<T>(CpuHandle p, CpuHandle g, CpuHandle m, CpuHandle v, AdamStepArgs args) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = p.NumElements;
        StridedPlan.ParallelRange(n, n * 4, (s, e) =>
        {
            int start = (int)s, len = (int)(e - s);
            AdamKernel.Update(p.Span<T>().Slice(start, len), g.Span<T>().Slice(start, len),
                m.Span<T>().Slice(start, len), v.Span<T>().Slice(start, len), args);
        }, ElementwiseThreshold);
    }
}
