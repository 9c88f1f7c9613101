namespace MechInterp.Backends;

/// <summary>
/// Optional fused kernels of causal attention (a backend capability). Without them <see cref="Tensor"/> computes the
/// same values from primitives: the full product for <c>CausalMatMul</c>, a -inf <c>Where</c> mask and a softmax for
/// the others (see Tensor.FusedReferences.cs). The managed backend implements them; libtorch uses the references.
/// </summary>
internal interface IFusedAttentionKernels
{
    /// <summary>The batched product <see cref="IBackend.MatMul"/> of causal attention, where row r of each matrix (r mod
    /// <paramref name="rowsPerGroup"/> = query i) only involves columns j ≤ i + <paramref name="offset"/> ("visible").
    /// <paramref name="inputMasked"/> false (scores = q·kᵀ): the visible entries of the result are exact and the hidden
    /// ones unspecified — the caller masks or ignores them. True (z = pattern·v): a's hidden entries are zero, so the
    /// product may skip them; the result is exact. A backend may compute the full product instead.</summary>
    TensorHandle CausalMatMul(TensorHandle a, TensorHandle b, long rowsPerGroup, long offset, bool inputMasked);

    /// <summary>Fused attention softmax over the last dim of scores [..., q, kv]: row i (of q) keeps keys
    /// j &lt;= i + <paramref name="offset"/> (causal, with <paramref name="offset"/> = kv - q cached keys before the
    /// queries), and gives softmax(x * <paramref name="scale"/>) over them and 0 elsewhere (a row with no visible key is
    /// all 0). Equal to scaling, masking with -inf, softmax and replacing NaN by 0, in one pass.</summary>
    TensorHandle CausalSoftmax(TensorHandle x, double scale, long offset);

    /// <summary>Causal masking of scores [..., q, kv] in one pass: x * <paramref name="scale"/> where key j &lt;= query
    /// i + <paramref name="offset"/>, and <paramref name="fill"/> elsewhere (-inf for attention scores, 0 for their
    /// gradient).</summary>
    TensorHandle CausalMask(TensorHandle x, double scale, long offset, double fill);

    /// <summary><see cref="CausalMask"/> written over <paramref name="x"/> itself (which the caller guarantees is
    /// contiguous and owned by nobody else), for scores no gradient will flow through.</summary>
    void CausalMaskInPlace(TensorHandle x, double scale, long offset, double fill);

    /// <summary><see cref="CausalMaskInPlace"/> (fill -inf) and the attention pattern of the masked scores in the same
    /// pass (softmax over the visible keys, 0 elsewhere); returns the pattern. For passes whose score hooks only observe.</summary>
    TensorHandle CausalMaskSoftmaxInPlace(TensorHandle x, double scale, long offset);
}
