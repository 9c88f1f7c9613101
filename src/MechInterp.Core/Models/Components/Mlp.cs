namespace MechInterp.Models.Components;

/// <summary>
/// The MLP: <c>hook_pre</c> = x·W_in + b_in, <c>hook_post</c> = act(pre), out = post·W_out + b_out; gated
/// (Llama/Gemma): <c>hook_pre</c> = x·W_gate, <c>hook_pre_linear</c> = x·W_in, <c>hook_post</c> = act(pre) * pre_linear.
/// </summary>
public sealed class Mlp : Module
{
    private readonly string _actFn;

    /// <summary>Creates a zero-initialised MLP.</summary>
    public Mlp(string prefix, HookedTransformerConfig cfg, Device device) : base(prefix)
    {
        _actFn = cfg.ActFn;
        Gated = cfg.GatedMlp;
        HookPre = Hook("hook_pre");
        if (Gated) HookPreLinear = Hook("hook_pre_linear");
        HookPost = Hook("hook_post");
        W_in = Param("W_in", Tensor.Zeros([cfg.DModel, cfg.DMlp], device: device));
        if (Gated) W_gate = Param("W_gate", Tensor.Zeros([cfg.DModel, cfg.DMlp], device: device));
        b_in = Param("b_in", Tensor.Zeros([cfg.DMlp], device: device));
        W_out = Param("W_out", Tensor.Zeros([cfg.DMlp, cfg.DModel], device: device));
        b_out = Param("b_out", Tensor.Zeros([cfg.DModel], device: device));
        Activation.Check(_actFn);
    }

    /// <summary>True for a gated MLP.</summary>
    public bool Gated { get; }
    /// <summary>[d_model, d_mlp].</summary>
    public Parameter W_in { get; }
    /// <summary>[d_model, d_mlp] (gated only).</summary>
    public Parameter? W_gate { get; }
    /// <summary>[d_mlp].</summary>
    public Parameter b_in { get; }
    /// <summary>[d_mlp, d_model].</summary>
    public Parameter W_out { get; }
    /// <summary>[d_model].</summary>
    public Parameter b_out { get; }
    /// <summary>mlp.hook_pre [batch, pos, d_mlp].</summary>
    public HookPoint HookPre { get; }
    /// <summary>mlp.hook_pre_linear (gated) [batch, pos, d_mlp].</summary>
    public HookPoint? HookPreLinear { get; }
    /// <summary>mlp.hook_post [batch, pos, d_mlp].</summary>
    public HookPoint HookPost { get; }

    /// <summary>Applies the MLP to the normalised residual.</summary>
    public Tensor Forward(Tensor x)
    {
        Tensor post;
        if (Gated)
        {
            var pre = HookPre.Invoke(Linear.Apply(x, W_gate!.Value, null));
            var preLinear = HookPreLinear!.Invoke(Linear.Apply(x, W_in.Value, b_in.Value));
            post = HookPost.Invoke(Activation.Apply(_actFn, pre) * preLinear);
        }
        else
        {
            var pre = HookPre.Invoke(Linear.Apply(x, W_in.Value, b_in.Value));
            post = HookPost.Invoke(Activation.Apply(_actFn, pre));
        }
        return Linear.Apply(post, W_out.Value, b_out.Value);
    }
}

/// <summary>MLP activation functions by their Hugging Face / TransformerLens names.</summary>
internal static class Activation
{
    private static readonly string[] s_known = ["gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "relu", "silu", "swish"];

    public static void Check(string name)
    {
        if (!s_known.Contains(name))
            throw new NotSupportedException($"activation '{name}' is not supported; supported: {string.Join(", ", s_known)}");
    }

    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "gelu" => x.Gelu(),
        "gelu_new" or "gelu_fast" or "gelu_pytorch_tanh" => x.GeluTanh(),
        "relu" => x.Relu(),
        "silu" or "swish" => x.Silu(),
        _ => throw new NotSupportedException($"activation '{name}' is not supported"),
    };
}
