namespace MechInterp.Saes;

/// <summary>
/// A sparse autoencoder or transcoder as SAELens 6.x defines it: <see cref="Encode"/> maps activations [..., d_in] to
/// latents [..., d_sae], <see cref="Decode"/> maps latents to a reconstruction [..., d_in] (or [..., d_out] for a
/// transcoder), <see cref="Forward(Tensor)"/> does both. One subclass per architecture
/// (<see cref="SaeRegistry"/> maps cfg.json's <c>architecture</c> to it), each with its training loss beside it.
/// </summary>
/// <remarks>
/// <para>Input processing (every architecture): cast to the compute dtype → flatten [..., n_heads, d_head] for hook_z
/// SAEs → <c>hook_sae_input</c> → normalise → subtract <c>b_dec</c> when <see cref="SaeConfig.ApplyBDecToInput"/>
/// (never for transcoders). Decode: <c>f @ W_dec + b_dec</c> → <c>hook_sae_recons</c> → un-normalise (SAEs only) →
/// reshape back for hook_z. <see cref="Decode"/> uses the normalisation state its <see cref="Encode"/> left, as SAELens
/// does: call them in pairs (or use <see cref="Forward(Tensor)"/>); an SAE instance is not for concurrent use.</para>
/// <para>Weights are held in float32 (float64 when cfg.json says so); float16/bfloat16 files are widened exactly and
/// written back in their dtype by <see cref="Save"/>.</para>
/// </remarks>
public abstract partial class Sae : Module
{
    private readonly ActivationNormalizer _normalizer;
    private readonly Dictionary<string, Parameter> _weights = new(StringComparer.Ordinal);
    private long? _dHead;
    private bool _hooksOff;
    private bool _training;

    /// <summary>Builds the SAE from its config and weights; <paramref name="specs"/> lists the weights it has.</summary>
    /// <exception cref="ArgumentException">A weight is missing or has the wrong shape.</exception>
    protected Sae(SaeConfig config, IReadOnlyList<SaeWeightSpec> specs, IReadOnlyDictionary<string, Tensor> weights) : base("")
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(weights);
        Config = config.Copy();
        foreach (var spec in specs)
        {
            if (!weights.TryGetValue(spec.Name, out var w))
                throw new ArgumentException($"a '{config.Architecture}' SAE needs the weight '{spec.Name}' {Tensor.ShapeString(spec.Shape)}", nameof(weights));
            if (!w.Shape.AsSpan().SequenceEqual(spec.Shape))
                throw new ArgumentException($"weight '{spec.Name}' has shape {Tensor.ShapeString(w.Shape)}; this config needs {Tensor.ShapeString(spec.Shape)}", nameof(weights));
            _weights[spec.Name] = Param(spec.Name, w);
        }
        _normalizer = new ActivationNormalizer(config.NormalizeActivations, config.DIn);
        _points = NewHookPoints("");
    }

    /// <summary>SAELens's names of an SAE's hook points, in the order SAELens creates them.</summary>
    public static IReadOnlyList<string> HookPointNames { get; } =
        ["hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_output", "hook_sae_recons", "hook_sae_error"];

    private HookPoint[] _points;

    private static HookPoint[] NewHookPoints(string prefix) =>
        HookPointNames.Select(n => new HookPoint(prefix.Length == 0 ? n : $"{prefix}.{n}")).ToArray();

    /// <summary>The SAE's hook points: named relative (<c>hook_sae_acts_post</c>) on their own, and under the model
    /// hook while spliced into a model (<c>blocks.1.hook_resid_post.hook_sae_acts_post</c>).</summary>
    public IReadOnlyList<HookPoint> SaeHookPoints => _points;

    /// <summary>Gives the SAE fresh hook points named under <paramref name="prefix"/> until the result is disposed
    /// (then the relative ones come back). One prefix at a time: an SAE is spliced in at one place.</summary>
    internal IDisposable NameHookPointsUnder(string prefix)
    {
        if (!ReferenceEquals(_points, _relativePoints ??= _points))
            throw new InvalidOperationException($"this SAE is spliced in at '{_points[0].Name[..^(HookPointNames[0].Length + 1)]}' already: an SAE instance can be attached at one hook at a time (ResetSaes, or load a second copy)");
        _points = NewHookPoints(prefix);
        return new RestorePoints(this);
    }

    private HookPoint[]? _relativePoints;

    private sealed class RestorePoints(Sae sae) : IDisposable
    {
        public void Dispose() => sae._points = sae._relativePoints ?? sae._points;
    }

    /// <summary>The configuration (as cfg.json gives it).</summary>
    public SaeConfig Config { get; private set; }

    /// <summary>The input after processing (cast, reshaped, normalised, b_dec removed) [..., d_in].</summary>
    public HookPoint HookSaeInput => _points[0];
    /// <summary>The latents' pre-activations [..., d_sae].</summary>
    public HookPoint HookSaeActsPre => _points[1];
    /// <summary>The latents (what <see cref="Encode"/> returns) [..., d_sae].</summary>
    public HookPoint HookSaeActsPost => _points[2];
    /// <summary>What <see cref="Forward(Tensor, bool)"/> returns.</summary>
    public HookPoint HookSaeOutput => _points[3];
    /// <summary>f @ W_dec + b_dec before un-normalising [..., d_out].</summary>
    public HookPoint HookSaeRecons => _points[4];
    /// <summary>x − reconstruction, with the error term only.</summary>
    public HookPoint HookSaeError => _points[5];

    /// <summary>Whether this is a transcoder (reads one hook, writes another; no b_dec subtraction, no un-normalising).</summary>
    public virtual bool IsTranscoder => false;

    /// <summary>The weights by SAELens name (W_enc, b_enc, W_dec, b_dec, threshold, ...), in the architecture's order.</summary>
    public IReadOnlyDictionary<string, Parameter> Weights => _weights;

    /// <summary>The weight called <paramref name="name"/>.</summary>
    protected Tensor W(string name) => _weights[name].Value;

    /// <summary>Encoder [d_in, d_sae] (x @ W_enc).</summary>
    public Tensor WEnc => W("W_enc");
    /// <summary>Decoder [d_sae, d_out] (f @ W_dec).</summary>
    public Tensor WDec => W("W_dec");
    /// <summary>Decoder bias [d_out].</summary>
    public Tensor BDec => W("b_dec");

    /// <summary>Where the weights live.</summary>
    public Device Device => WDec.Device;

    /// <summary>The element type computations run in.</summary>
    public DType ComputeDType => WDec.DType;

    /// <summary>Decoder row norms ‖W_dec[i]‖ [d_sae].</summary>
    public Tensor DecoderNorms() => WDec.Norm(2, 1); // [d_sae]

    /// <summary>Latents of x [..., d_in] (hook_z: [..., n_heads, d_head]) → [..., d_sae].</summary>
    public Tensor Encode(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return EncodeWithPre(ProcessInput(x)).FeatureActs;
    }

    /// <summary>Reconstruction of latents f [..., d_sae] → [..., d_in] (hook_z: [..., n_heads, d_head]; transcoders [..., d_out]).</summary>
    public Tensor Decode(Tensor f)
    {
        ArgumentNullException.ThrowIfNull(f);
        CheckLastDim(f, Config.DSae, "Decode", "latents");
        var recons = Run(HookSaeRecons, DecodeRaw(f)); // [..., d_out]
        if (IsTranscoder) return recons;
        var y = _normalizer.Out(recons);
        if (!Config.ReshapeHookZ || _training) return y;
        long dHead = _dHead ?? throw new InvalidOperationException("a hook_z SAE's Decode reshapes to [..., n_heads, d_head] with the d_head its last Encode saw: call Encode first");
        return y.Reshape([.. y.Shape[..^1], y.Shape[^1] / dHead, dHead]);
    }

    /// <summary>Reconstruction of x: Decode(Encode(x)) (skip transcoders add x @ W_skip.T).</summary>
    public Tensor Forward(Tensor x) => Forward(x, useErrorTerm: false);

    /// <summary>
    /// Reconstruction of x; with <paramref name="useErrorTerm"/> (SAEs only) the error x − Decode(Encode(x)), computed
    /// again without hooks and without gradient, is added (through <see cref="HookSaeError"/>), so the output equals x up
    /// to rounding while hooks on the SAE's points still see and edit the SAE's path.
    /// </summary>
    public virtual Tensor Forward(Tensor x, bool useErrorTerm)
    {
        var output = Decode(Encode(x));
        if (useErrorTerm && !IsTranscoder)
        {
            Tensor error;
            using (GradMode.NoGrad())
            {
                bool was = _hooksOff;
                _hooksOff = true;
                try { error = x.To(ComputeDType) - Decode(Encode(x)); }
                finally { _hooksOff = was; }
            }
            output = output + Run(HookSaeError, error);
        }
        return Run(HookSaeOutput, output);
    }

    /// <summary>Undoes the input normalisation on y [..., d_in] with the state of the last encode (SAEs only).</summary>
    protected Tensor NormalizeOut(Tensor y) => IsTranscoder ? y : _normalizer.Out(y);

    /// <summary>cast → hook_z flatten → hook_sae_input → normalise → − b_dec (SAEs with apply_b_dec_to_input).</summary>
    protected Tensor ProcessInput(Tensor x)
    {
        var h = x.Device == Device ? x.To(ComputeDType) : throw new ArgumentException(
            $"the input is on {x.Device} but the SAE's weights are on {Device}: move one of them (x.To(device) or sae.To(device))", nameof(x));
        if (Config.ReshapeHookZ && !_training)
        {
            if (h.Rank < 2 || h.Shape[^2] * h.Shape[^1] != Config.DIn)
                throw new ArgumentException($"a hook_z SAE takes [..., n_heads, d_head] with n_heads·d_head = d_in = {Config.DIn}, got {Tensor.ShapeString(h.Shape)}", nameof(x));
            _dHead = h.Shape[^1];
            h = h.Reshape([.. h.Shape[..^2], Config.DIn]); // [..., n_heads * d_head]
        }
        CheckLastDim(h, Config.DIn, "Encode", "input");
        h = _normalizer.In(Run(HookSaeInput, h));
        return !IsTranscoder && Config.ApplyBDecToInput ? h - BDec : h;
    }

    /// <summary>The architecture's encoder on processed input [..., d_in]: passes the pre-activation through
    /// <see cref="HookSaeActsPre"/> and the latents through <see cref="HookSaeActsPost"/>; returns both
    /// (the pre-activation as the hook saw it).</summary>
    protected abstract (Tensor FeatureActs, Tensor HiddenPre) EncodeWithPre(Tensor saeIn);

    /// <summary>f @ W_dec + b_dec [..., d_out] (TopK with rescale divides f by the decoder norms first).</summary>
    protected virtual Tensor DecodeRaw(Tensor f) => Linear(f, WDec, BDec);

    /// <summary>x [..., k] @ w [k, n] + b [n] over any leading dims.</summary>
    protected static Tensor Linear(Tensor x, Tensor w, Tensor? b)
    {
        var flat = x.Rank == 2 ? x : x.Reshape(-1, x.Shape[^1]); // [rows, k]
        var y = flat.MatMul(w);                                  // [rows, n]
        if (b is not null) y = y + b;
        return x.Rank == 2 ? y : y.Reshape([.. x.Shape[..^1], w.Shape[1]]);
    }

    /// <summary>Runs the hook point unless the error term's clean pass has hooks turned off.</summary>
    protected Tensor Run(HookPoint point, Tensor x) => _hooksOff ? x : point.Invoke(x);

    private static void CheckLastDim(Tensor t, int want, string op, string what)
    {
        if (t.Rank == 0 || t.Shape[^1] != want)
            throw new ArgumentException($"{op}: the {what} has shape {Tensor.ShapeString(t.Shape)} but this SAE needs a last dimension of {want}");
    }

    /// <summary>Replaces the configuration (architecture conversions, FoldWDecNorm of TopK).</summary>
    protected void SetConfig(SaeConfig config) => Config = config.Copy();
}
