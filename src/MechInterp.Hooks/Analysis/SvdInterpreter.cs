namespace MechInterp.Analysis;

/// <summary>Which weight's singular directions <see cref="SvdInterpreter"/> reads.</summary>
public enum SvdTarget
{
    /// <summary>A head's OV circuit; its output-side (right) singular directions, written to the residual.</summary>
    OV,
    /// <summary>A head's QK circuit; its key-side (right) singular directions, what the head looks for in keys.</summary>
    QK,
    /// <summary>A layer's W_in [d_model, d_mlp]; its residual-side (left) singular directions, what the neurons read.</summary>
    WIn,
    /// <summary>A layer's W_out [d_mlp, d_model]; its residual-side (right) singular directions, what the neurons write.</summary>
    WOut,
}

/// <summary>One singular direction read through the unembedding.</summary>
/// <param name="Index">Rank of the direction (0 = largest singular value).</param>
/// <param name="SingularValue">Its singular value.</param>
/// <param name="Top">The tokens whose unembedding is most aligned with the direction, with their scores.</param>
/// <param name="Bottom">The most anti-aligned (a singular direction's sign is arbitrary: read both ends).</param>
public sealed record SingularDirection(int Index, double SingularValue, (long Token, double Score)[] Top, (long Token, double Score)[] Bottom);

/// <summary>
/// The SVD interpreter (Millidge and Black 2022; TransformerLens's SVDInterpreter): the top singular directions of a
/// head's OV or QK circuit or of an MLP's W_in / W_out, each projected on the unembedding W_U and read as tokens.
/// Reads the model's weights, so it needs a <see cref="HookedTransformer"/>.
/// </summary>
public static class SvdInterpreter
{
    /// <summary>The <paramref name="directions"/> top singular directions of <paramref name="target"/> at
    /// <paramref name="layer"/> (and <paramref name="head"/> for OV/QK), each with its <paramref name="tokens"/> most and
    /// least aligned tokens.</summary>
    public static SingularDirection[] Interpret(HookedTransformer model, SvdTarget target, int layer, int head = 0, int directions = 5, int tokens = 10)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (layer < 0 || layer >= model.Config.NLayers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0..{model.Config.NLayers - 1}");
        if (target is SvdTarget.OV or SvdTarget.QK && (head < 0 || head >= model.Config.NHeads))
            throw new ArgumentOutOfRangeException(nameof(head), head, $"the model has heads 0..{model.Config.NHeads - 1}");
        using var noGrad = GradMode.NoGrad();
        Tensor vectors, singular; // vectors [d_model, k]
        switch (target)
        {
            case SvdTarget.OV or SvdTarget.QK:
                var circuit = (target == SvdTarget.OV ? model.OV() : model.QK())[layer, head];
                (_, singular, vectors) = circuit.Svd();
                break;
            default:
                var mlp = model.Blocks[layer].Mlp ?? throw new InvalidOperationException($"layer {layer} has no MLP (attention-only model)");
                var w = target == SvdTarget.WIn ? mlp.W_in.Value : mlp.W_out.Value;           // [d_model, d_mlp] or [d_mlp, d_model]
                // The residual side as the left factor of a thin factorisation: W_in = W_in·I, W_outᵀ = W_outᵀ·I.
                var residualSide = target == SvdTarget.WIn ? w : w.T;                         // [d_model, d_mlp]
                (vectors, singular, _) = new FactoredMatrix(residualSide, Tensor.Eye(residualSide.Shape[1], device: w.Device)).Svd();
                break;
        }
        var read = vectors.T.MatMul(model.W_U).To(Device.Cpu).To(DType.Float64);       // [k, vocab]
        var s = singular.To(Device.Cpu).To(DType.Float64).ToArray<double>();
        int count = Math.Min(directions, s.Length);
        var result = new SingularDirection[count];
        for (int i = 0; i < count; i++)
        {
            var scores = read.Select(0, i).ToArray<double>();
            var order = Enumerable.Range(0, scores.Length).OrderByDescending(t => scores[t]).ToArray();
            result[i] = new SingularDirection(i, s[i],
                [.. order.Take(tokens).Select(t => ((long)t, scores[t]))],
                [.. order.Reverse().Take(tokens).Select(t => ((long)t, scores[t]))]);
        }
        return result;
    }
}
