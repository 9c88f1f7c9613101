namespace MechInterp.Loading.Architectures;

/// <summary>How one Hugging Face model family maps to a <see cref="HookedTransformerConfig"/> and to
/// TransformerLens-layout weights (W_Q [n_heads, d_model, d_head], W_in [d_model, d_mlp], W_U [d_model, d_vocab], ...).</summary>
internal interface IArchitecture
{
    /// <summary>HF class names handled (config.json "architectures").</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Prefixes weights may carry.</summary>
    string[] Prefixes { get; }

    /// <summary>Builds the config; rejects switches it does not implement.</summary>
    HookedTransformerConfig MapConfig(HfConfig hf);

    /// <summary>Yields TransformerLens-named tensors one at a time (so loading can report progress).</summary>
    IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig cfg, WeightSource w);
}

/// <summary>Layout conversions shared by the families. They return views where the strides allow (the loader makes
/// parameters contiguous unless they stay views of memory-mapped weights that GEMM can read directly).</summary>
internal static class Layout
{
    /// <summary>nn.Linear weight [heads*d_head, d_model] → [heads, d_model, d_head].</summary>
    public static Tensor HeadsIn(Tensor linearWeight, int heads, int dHead, int dModel) =>
        linearWeight.Reshape(heads, dHead, dModel).Transpose(1, 2);

    /// <summary>nn.Linear output weight [d_model, heads*d_head] → W_O [heads, d_head, d_model].</summary>
    public static Tensor HeadsOut(Tensor linearWeight, int heads, int dHead, int dModel) =>
        linearWeight.T.Reshape(heads, dHead, dModel);

    /// <summary>Bias [heads*d_head] → [heads, d_head], or zeros when absent.</summary>
    public static Tensor HeadBias(Tensor? bias, int heads, int dHead) =>
        bias?.Reshape(heads, dHead) ?? Tensor.Zeros([heads, dHead]);

    /// <summary>nn.Linear weight [out, in] → [in, out].</summary>
    public static Tensor In(Tensor linearWeight) => linearWeight.T;

    public static Tensor ZerosOr(Tensor? t, long n) => t ?? Tensor.Zeros([n]);

    public static AttentionType[] Alternating(int layers, Func<int, bool> isLocal) =>
        Enumerable.Range(0, layers).Select(l => isLocal(l) ? AttentionType.Local : AttentionType.Global).ToArray();
}
