using MechInterp.Autograd;

namespace MechInterp;

public sealed partial class Tensor
{
    /// <summary>Numerically stable softmax over <paramref name="dim"/>.</summary>
    public Tensor Softmax(int dim = -1)
    {
        int d = NormalizeDim(dim, Rank);
        var x = this;
        var r = new Tensor(Backend.Softmax(Handle, d, log: false));
        AutogradRecorder.Record(r, "softmax", [x], g => [r * (g - (g * r).Sum(d, keepDim: true))], [r]);
        return r;
    }

    /// <summary>Numerically stable log-softmax over <paramref name="dim"/>.</summary>
    public Tensor LogSoftmax(int dim = -1)
    {
        int d = NormalizeDim(dim, Rank);
        var x = this;
        var r = new Tensor(Backend.Softmax(Handle, d, log: true));
        AutogradRecorder.Record(r, "log_softmax", [x], g => [g - r.Exp() * g.Sum(d, keepDim: true)], [r]);
        return r;
    }

    /// <summary>Fused causal attention softmax over scores [..., q, kv]: softmax(this * <paramref name="scale"/>) over
    /// keys j &lt;= i + (kv - q) for query row i, 0 for later keys (rows with no visible key are 0). The same values as
    /// scaling, masking with -inf, <see cref="Softmax"/> and replacing NaN by 0, in one pass.</summary>
    public Tensor CausalSoftmax(double scale = 1.0)
    {
        if (Rank < 2) throw new ArgumentException($"CausalSoftmax needs scores [..., query, key], got shape {ShapeString(Shape)}");
        if (!DType.IsFloatingPoint()) throw new ArgumentException($"CausalSoftmax needs floating-point scores, got {DType}");
        var x = this;
        var r = CausalSoftmaxCore(scale, Shape[^1] - Shape[^2]);
        AutogradRecorder.Record(r, "causal_softmax", [x], g => [r * (g - (g * r).Sum(-1, keepDim: true)) * scale], [r]);
        return r;
    }

    /// <summary>Causal masking of attention scores [..., query, key] in one pass: <c>this * scale</c> where key j is visible
    /// to query i (j &lt;= i + key - query, the cached keys counted), <paramref name="fill"/> (default -inf) elsewhere.
    /// Equal to scaling and <c>Where(causalMask, scores, fill)</c>; <see cref="CausalSoftmax"/> of the result is the
    /// attention pattern.</summary>
    public Tensor CausalMask(double scale = 1.0, double fill = double.NegativeInfinity)
    {
        if (Rank < 2) throw new ArgumentException($"CausalMask needs scores [..., query, key], got shape {ShapeString(Shape)}");
        if (!DType.IsFloatingPoint()) throw new ArgumentException($"CausalMask needs floating-point scores, got {DType}");
        long offset = Shape[^1] - Shape[^2];
        var r = CausalMaskCore(scale, offset, fill);
        AutogradRecorder.Record(r, "causal_mask", [this], g => [g.CausalMask(scale, 0.0)]);
        return r;
    }

    /// <summary><see cref="CausalMask"/> over this tensor's own data, for engine-made scores that nothing else holds
    /// and no gradient flows through (it must be contiguous). Returns this tensor.</summary>
    internal Tensor CausalMaskInPlace(double scale)
    {
        if (RequiresGrad && GradMode.IsEnabled) throw new InvalidOperationException("CausalMaskInPlace on a tensor that records gradients: use CausalMask");
        if (Rank < 2 || !DType.IsFloatingPoint() || !IsContiguous) throw new ArgumentException($"CausalMaskInPlace needs contiguous floating-point scores [..., query, key], got {DType} {ShapeString(Shape)}");
        CausalMaskInPlaceCore(scale, Shape[^1] - Shape[^2]);
        return this;
    }

    /// <summary><see cref="CausalMaskInPlace"/> and the pattern of the masked scores (<see cref="CausalSoftmax"/>) in one
    /// pass; returns the pattern. For engine-made scores whose hooks only observe, with no gradient recorded.</summary>
    internal Tensor CausalMaskSoftmaxInPlace(double scale)
    {
        if (RequiresGrad && GradMode.IsEnabled) throw new InvalidOperationException("CausalMaskSoftmaxInPlace on a tensor that records gradients: use CausalMask and CausalSoftmax");
        if (Rank < 2 || !DType.IsFloatingPoint() || !IsContiguous) throw new ArgumentException($"CausalMaskSoftmaxInPlace needs contiguous floating-point scores [..., query, key], got {DType} {ShapeString(Shape)}");
        return CausalMaskSoftmaxInPlaceCore(scale, Shape[^1] - Shape[^2]);
    }

    /// <summary>A norm and its scale in one pass (see <see cref="Backends.IFusedNormKernels.NormalizeWithScale"/>), for norms
    /// whose hooks only observe, with no gradient recorded.</summary>
    internal (Tensor Normalized, Tensor Scale) NormalizeWithScale(Tensor? weight, Tensor? bias, double eps, bool rms)
    {
        if (GradMode.IsEnabled && (RequiresGrad || weight?.RequiresGrad == true || bias?.RequiresGrad == true))
            throw new InvalidOperationException("NormalizeWithScale records no gradient: use the unfused ops when one is needed");
        CheckNormParam(weight, "norm weight");
        CheckNormParam(bias, "norm bias");
        return NormalizeWithScaleCore(weight?.To(DType), bias?.To(DType), eps, rms);
    }

    /// <summary>Layer norm over the last dim with optional affine weight and bias ([d]).</summary>
    public Tensor LayerNorm(Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        CheckNormParam(weight, "LayerNorm weight");
        CheckNormParam(bias, "LayerNorm bias");
        var x = this;
        var w = weight?.To(DType);
        var b = bias?.To(DType);
        var r = LayerNormCore(w, b, eps);
        var inputs = new List<Tensor> { x };
        if (w is not null) inputs.Add(w);
        if (b is not null) inputs.Add(b);
        AutogradRecorder.Record(r, "layer_norm", [.. inputs], g =>
        {
            long n = x.Shape[^1];
            var mean = x.Mean(-1, keepDim: true);
            var centered = x - mean;
            var rstd = (centered.Square().Mean(-1, keepDim: true) + eps).Rsqrt();
            var xhat = centered * rstd;
            var gx = w is null ? g : g * w;
            var dx = rstd * (gx - gx.Mean(-1, keepDim: true) - xhat * (gx * xhat).Mean(-1, keepDim: true));
            var grads = new List<Tensor?> { dx };
            if (w is not null) grads.Add((g * xhat).SumToShape([n]));
            if (b is not null) grads.Add(g.SumToShape([n]));
            return [.. grads];
        }, [.. inputs]);
        return r;
    }

    /// <summary>RMS norm over the last dim: x / sqrt(mean(x²) + eps) * w.</summary>
    public Tensor RmsNorm(Tensor? weight = null, double eps = 1e-6)
    {
        CheckNormParam(weight, "RmsNorm weight");
        var x = this;
        var w = weight?.To(DType);
        var r = RmsNormCore(w, eps);
        Tensor[] inputs = w is null ? [x] : [x, w];
        AutogradRecorder.Record(r, "rms_norm", inputs, g =>
        {
            long n = x.Shape[^1];
            var rrms = (x.Square().Mean(-1, keepDim: true) + eps).Rsqrt();
            var xhat = x * rrms;
            var gx = w is null ? g : g * w;
            var dx = rrms * (gx - xhat * (gx * xhat).Mean(-1, keepDim: true));
            return w is null ? [dx] : [dx, (g * xhat).SumToShape([n])];
        }, inputs);
        return r;
    }

    private void CheckNormParam(Tensor? p, string what)
    {
        if (p is null) return;
        CheckSameDevice(this, p, what);
        if (p.Rank != 1 || p.Shape[0] != Shape[^1])
            throw new ArgumentException($"{what} has shape {ShapeString(p.Shape)} but the normalised dim has size {Shape[^1]} (input {ShapeString(Shape)})");
    }

    /// <summary>Cross-entropy of <paramref name="logits"/> [N, C] (or [..., C]) against Int64 class
    /// <paramref name="targets"/> [N] (or [...]); mean over entries unless <paramref name="reduction"/> is "none" or "sum".</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, string reduction = "mean")
    {
        if (logits.Rank != targets.Rank + 1 || !logits.Shape[..^1].AsSpan().SequenceEqual(targets.Shape))
            throw new ArgumentException($"CrossEntropy: logits {ShapeString(logits.Shape)} need targets of shape {ShapeString(logits.Shape[..^1])}, got {ShapeString(targets.Shape)}");
        var logp = logits.LogSoftmax(-1);
        var nll = -logp.Gather(-1, targets.To(DType.Int64).Unsqueeze(-1)).Squeeze(-1);
        return reduction switch
        {
            "mean" => nll.Mean(),
            "sum" => nll.Sum(),
            "none" => nll,
            _ => throw new ArgumentException($"unknown reduction '{reduction}': use \"mean\", \"sum\" or \"none\"", nameof(reduction)),
        };
    }
}
