namespace MechInterp.Models.Components;

/// <summary>
/// LayerNorm / LayerNormPre / RMSNorm / RMSNormPre with TransformerLens's hooks: <c>hook_scale</c> [batch, pos, 1]
/// and <c>hook_normalized</c> (LN: after weight and bias; RMS and the Pre variants: before any weight).
/// </summary>
public sealed class Normalization : Module
{
    private NormalizationType _type;
    private readonly double _eps;

    /// <summary>Creates a norm of width <paramref name="length"/>.</summary>
    public Normalization(string prefix, NormalizationType type, int length, double eps, Device device) : base(prefix)
    {
        _type = type;
        _eps = eps;
        HookScale = Hook("hook_scale");
        HookNormalized = Hook("hook_normalized");
        if (type is NormalizationType.LN or NormalizationType.RMS) W = Param("w", Tensor.Ones([length], device: device));
        if (type is NormalizationType.LN) B = Param("b", Tensor.Zeros([length], device: device));
    }

    private bool IsPre => _type is NormalizationType.LNPre or NormalizationType.RMSPre;

    /// <summary>The kind of norm.</summary>
    public NormalizationType Type => _type;
    /// <summary>Weight (null for the Pre variants).</summary>
    public Parameter? W { get; }
    /// <summary>Bias (LN only).</summary>
    public Parameter? B { get; }
    /// <summary>hook_scale.</summary>
    public HookPoint HookScale { get; }
    /// <summary>hook_normalized.</summary>
    public HookPoint HookNormalized { get; }

    /// <summary>Turns LN into LNPre and RMS into RMSPre after the weights were folded into the next layer: the weight
    /// becomes ones and the bias zeros (kept as parameters so state dicts keep their names).</summary>
    internal void MakePre()
    {
        using var _ = GradMode.NoGrad();
        if (_type == NormalizationType.LN) _type = NormalizationType.LNPre;
        else if (_type == NormalizationType.RMS) _type = NormalizationType.RMSPre;
        W?.Reset(Tensor.OnesLike(W.Value));
        B?.Reset(Tensor.ZerosLike(B.Value));
    }

    /// <summary>Normalises over the last dim (deciding its kernels on its own; inside a pass prefer the overload that takes
    /// the pass's plan).</summary>
    public Tensor Forward(Tensor x) => Forward(x, ForwardPlan.Begin());

    /// <summary>Normalises over the last dim: one fused norm when nothing looks, norm and scale in one pass when the hooks
    /// only observe, TransformerLens's ops when a hook may edit the scale or the output.</summary>
    internal Tensor Forward(Tensor x, ForwardPlan plan)
    {
        if (_type == NormalizationType.None) return x;
        bool rms = _type is NormalizationType.RMS or NormalizationType.RMSPre;
        if (!plan.IsHooked(HookScale) && !plan.IsHooked(HookNormalized))
            return rms ? x.RmsNorm(IsPre ? null : W?.Value, _eps) : x.LayerNorm(IsPre ? null : W?.Value, IsPre ? null : B?.Value, _eps);
        if (plan.IsUnchanged(HookScale) && plan.IsUnchanged(HookNormalized) && !ForwardPlan.Records(x, W?.Value, B?.Value))
        {
            // Hooks that only observe (a cache): the norm and its scale in one pass.
            var weight = IsPre || rms ? null : W?.Value;
            var (fused, fusedScale) = x.NormalizeWithScale(weight, IsPre || rms ? null : B?.Value, _eps, rms);
            HookScale.Invoke(fusedScale);
            fused = HookNormalized.Invoke(fused);
            return rms && W is not null && !IsPre ? fused * W.Value : fused;
        }
        var centered = rms ? x : x - x.Mean(-1, keepDim: true);
        var scale = HookScale.Invoke((centered.Square().Mean(-1, keepDim: true) + _eps).Sqrt());
        var normalized = centered / scale;
        if (rms)
        {
            normalized = HookNormalized.Invoke(normalized);
            return W is null || IsPre ? normalized : normalized * W.Value;
        }
        if (W is not null && !IsPre) normalized = normalized * W.Value;
        if (B is not null && !IsPre) normalized = normalized + B.Value;
        return HookNormalized.Invoke(normalized);
    }
}
