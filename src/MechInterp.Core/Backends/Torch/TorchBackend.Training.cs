using TorchSharp;
using TTensor = TorchSharp.torch.Tensor;

namespace MechInterp.Backends.Torch;

internal sealed partial class TorchBackend
{
    /// <inheritdoc />
    public TensorHandle UnaryBackward(UnaryGradOp op, TensorHandle grad, TensorHandle x)
    {
        var g = T(grad);
        var t = T(x);
        ShapeUtil.Broadcast(grad.Shape, x.Shape);
        switch (op)
        {
            case UnaryGradOp.Relu:
            {
                // threshold_backward: the gradient where x > 0, exactly 0 elsewhere (even for an inf/NaN gradient).
                using var positive = t.gt(0);
                using var zero = torch.zeros(Array.Empty<long>(), TorchDTypes.ToTorch(x.DType), _torchDevice);
                return Wrap(torch.where(positive, g, zero));
            }
            case UnaryGradOp.Abs:
            {
                using var sign = t.sgn();
                return Wrap(g.mul(sign));
            }
            case UnaryGradOp.GeluTanh:
            {
                // σ(2u)·(1 + 2x·slope·(1 − σ(2u))): the tanh form cancels catastrophically for x ≲ −4 (see SmoothActivationGrads).
                const double c = 0.7978845608028654, k = 0.044715; // sqrt(2/pi)
                using var x2 = t.square();
                using var sigma = x2.mul(k);
                sigma.add_(1.0).mul_(t).mul_(2 * c).sigmoid_();
                using var slope = x2.mul(3 * k);
                slope.add_(1.0).mul_(c);
                using var d = sigma.neg();
                d.add_(1.0).mul_(slope).mul_(t).mul_(2.0).add_(1.0).mul_(sigma);
                return Wrap(g.mul(d));
            }
            case UnaryGradOp.Gelu:
            {
                // Φ(x) + x·φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = e^(−x²/2)/√(2π).
                using var cdf = t.mul(0.70710678118654752440);
                cdf.erf_().add_(1.0).mul_(0.5);
                using var d = t.square();
                d.mul_(-0.5).exp_().mul_(0.39894228040143267794).mul_(t).add_(cdf);
                return Wrap(g.mul(d));
            }
            case UnaryGradOp.Silu:
            {
                using var s = t.sigmoid();
                using var d = s.neg().add_(1.0).mul_(t).add_(1.0).mul_(s);
                return Wrap(g.mul(d));
            }
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "unknown activation gradient");
        }
    }

    /// <inheritdoc />
    public void AdamStepInPlace(TensorHandle param, TensorHandle grad, TensorHandle expAvg, TensorHandle expAvgSq, AdamStepArgs args)
    {
        TTensor p = Written(param), g = T(grad), m = Written(expAvg), v = Written(expAvgSq);
        TTensor? l2Grad = null;
        try
        {
            if (args.L2 != 0)
            {
                using var wd = (Scalar)args.L2;
                l2Grad = g.add(p, wd);
            }
            var gg = l2Grad ?? g;
            if (args.DecayFactor != 1)
            {
                using var decay = (Scalar)args.DecayFactor;
                Done(p.mul_(decay), p);
            }
            using (var b1 = (Scalar)args.Beta1)
            using (var c1 = (Scalar)(1 - args.Beta1))
                Done(Done(m.mul_(b1), m).add_(gg, c1), m);
            using (var b2 = (Scalar)args.Beta2)
            using (var c2 = (Scalar)(1 - args.Beta2))
                Done(Done(v.mul_(b2), v).addcmul_(gg, gg, c2), v);
            using var denom = v.sqrt();
            using (var bc2 = (Scalar)args.BiasCorrection2Sqrt)
            using (var eps = (Scalar)args.Eps)
                Done(Done(denom.div_(bc2), denom).add_(eps), denom);
            using var step = (Scalar)(-args.StepSize);
            Done(p.addcdiv_(m, denom, step), p);
        }
        finally
        {
            l2Grad?.Dispose();
        }
    }

    /// <summary>In-place TorchSharp ops return either the tensor itself or a new wrapper of it (by version): disposes
    /// a wrapper and gives back the target.</summary>
    private static TTensor Done(TTensor result, TTensor target)
    {
        if (!ReferenceEquals(result, target)) result.Dispose();
        return target;
    }
}
