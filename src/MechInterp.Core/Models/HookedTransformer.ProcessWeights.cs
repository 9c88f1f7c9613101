using MechInterp.Models.Components;

namespace MechInterp;

public sealed partial class HookedTransformer
{
    /// <summary>
    /// TransformerLens's weight processing, each step leaving the log-probabilities unchanged: fold norm weights into
    /// the matrices that read the normalised stream (norms become LNPre/RMSPre), center weights writing to the
    /// residual stream (LayerNorm models), center the unembedding, fold value biases into b_O. Recorded in
    /// <see cref="Processing"/>.
    /// </summary>
    public void ProcessWeights(WeightProcessing steps)
    {
        using var _ = GradMode.NoGrad();
        bool layerNorm = Config.NormalizationType is NormalizationType.LN or NormalizationType.LNPre;
        if (steps.CenterWritingWeights && !layerNorm)
            throw new NotSupportedException($"CenterWritingWeights is only output-preserving for LayerNorm models; this model uses {Config.NormalizationType}");
        if (steps.CenterWritingWeights && Config.UseNormalizationBeforeAndAfter)
            throw new NotSupportedException("CenterWritingWeights is not output-preserving with norms after attention/MLP (Gemma 2)");
        if (steps.CenterUnembed && Config.OutputLogitsSoftCap > 0)
            throw new NotSupportedException("CenterUnembed is not output-preserving with a final logit soft cap (Gemma 2)");
        if (steps.FoldLayerNorm && !Processing.FoldLayerNorm) FoldNorms(center: layerNorm);
        if (steps.CenterWritingWeights && !Processing.CenterWritingWeights) CenterWriting();
        if (steps.CenterUnembed && !Processing.CenterUnembed) CenterUnembedding();
        if (steps.FoldValueBiases && !Processing.FoldValueBiases) FoldValueBias();
        Processing = new WeightProcessing(
            Processing.FoldLayerNorm || steps.FoldLayerNorm, Processing.CenterWritingWeights || steps.CenterWritingWeights,
            Processing.CenterUnembed || steps.CenterUnembed, Processing.FoldValueBiases || steps.FoldValueBiases);
    }

    private static void Set(Parameter p, Tensor value) => p.Reset(value.Contiguous().Clone());

    /// <summary>Folds w (and b) of <paramref name="norm"/> into a reader weight [d_model, out] and its bias [out].</summary>
    private static void FoldInto(Normalization norm, Parameter weight, Parameter? bias, bool center)
    {
        var w = weight.Value;
        if (norm.B is not null && bias is not null) Set(bias, bias.Value + norm.B.Value.MatMul(w));
        var folded = norm.W is null ? w : w * norm.W.Value.Unsqueeze(1);
        if (center) folded = folded - folded.Mean(0, keepDim: true);
        Set(weight, folded);
    }

    private void FoldNorms(bool center)
    {
        foreach (var block in Blocks)
        {
            var a = block.Attn;
            FoldInto(block.Ln1, a.Wq, a.Bq, center);
            FoldInto(block.Ln1, a.Wk, a.Bk, center);
            FoldInto(block.Ln1, a.Wv, a.Bv, center);
            block.Ln1.MakePre();
            if (block.Mlp is { } mlp && block.Ln2 is { } ln2)
            {
                if (mlp.W_gate is not null) FoldInto(ln2, mlp.W_gate, null, center);
                FoldInto(ln2, mlp.W_in, mlp.b_in, center);
                ln2.MakePre();
            }
        }
        FoldInto(LnFinal, Unembed.W_U, Unembed.b_U, center);
        LnFinal.MakePre();
    }

    private void CenterWriting()
    {
        static void CenterRows(Parameter p) => Set(p, p.Value - p.Value.Mean(-1, keepDim: true));
        static void CenterVector(Parameter p) => Set(p, p.Value - p.Value.Mean());
        CenterRows(Embed.W_E);
        if (PosEmbed is not null) CenterRows(PosEmbed.W_pos);
        foreach (var block in Blocks)
        {
            CenterRows(block.Attn.Wo);
            CenterVector(block.Attn.Bo);
            if (block.Mlp is { } mlp)
            {
                CenterRows(mlp.W_out);
                CenterVector(mlp.b_out);
            }
        }
    }

    private void CenterUnembedding()
    {
        Set(Unembed.W_U, Unembed.W_U.Value - Unembed.W_U.Value.Mean(-1, keepDim: true));
        Set(Unembed.b_U, Unembed.b_U.Value - Unembed.b_U.Value.Mean());
    }

    private void FoldValueBias()
    {
        int group = Config.NHeads / Config.KvHeads;
        foreach (var block in Blocks)
        {
            var a = block.Attn;
            var bV = a.b_V; // [kv, d_head]
            if (group > 1) bV = bV.Unsqueeze(1).Expand(Config.KvHeads, group, Config.DHead).Reshape(Config.NHeads, Config.DHead);
            var contribution = Tensor.Einsum("he,hed->d", bV, a.W_O);
            Set(a.Bo, a.Bo.Value + contribution);
            Set(a.Bv, Tensor.ZerosLike(a.Bv.Value));
        }
    }
}
