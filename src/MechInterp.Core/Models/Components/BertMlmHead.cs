namespace MechInterp.Models.Components;

/// <summary>
/// BERT's masked-LM transform (TransformerLens's BertMLMHead, HF <c>cls.predictions.transform</c>):
/// <c>ln(gelu(x·W + b))</c>, the input of the unembedding. <see cref="W"/> is [d_model_out, d_model_in] as in
/// TransformerLens; it is stored transposed for the GEMM.
/// </summary>
public sealed class BertMlmHead : Module
{
    private readonly string _actFn;

    /// <summary>Creates a zero-initialised head.</summary>
    public BertMlmHead(string prefix, HookedTransformerConfig cfg, Device device) : base(prefix)
    {
        _actFn = cfg.ActFn;
        Activation.Check(_actFn);
        WStored = Param("W", Tensor.Zeros([cfg.DModel, cfg.DModel], device: device));
        b = Param("b", Tensor.Zeros([cfg.DModel], device: device));
        Ln = Child("ln", new Normalization(FullName("ln"), cfg.NormalizationType, cfg.DModel, cfg.Eps, device));
    }

    /// <summary>The dense weight as stored: [d_model_in, d_model_out].</summary>
    internal Parameter WStored { get; }
    /// <summary>W [d_model_out, d_model_in] (TransformerLens layout; a view of the stored matrix).</summary>
    public Tensor W => WStored.Value.T;
    /// <summary>Dense bias [d_model].</summary>
    public Parameter b { get; }
    /// <summary>The LayerNorm (mlm_head.ln, hooks mlm_head.ln.hook_scale / hook_normalized).</summary>
    public Normalization Ln { get; }

    /// <summary>Transforms the final residual stream [batch, pos, d_model].</summary>
    public Tensor Forward(Tensor resid) => Ln.Forward(Activation.Apply(_actFn, Linear.Apply(resid, WStored.Value, b.Value)));
}
