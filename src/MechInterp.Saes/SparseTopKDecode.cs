namespace MechInterp.Saes;

/// <summary>
/// Decoding latents with k non-zeros per row as a gather of k decoder rows (as sparsify does) instead of a dense
/// [rows, d_sae] × [d_sae, d_out] product: out[r] = Σ_j v[r, j] · W_dec[i[r, j]] + b_dec. Its gradient is sparse too:
/// W_dec receives only the k rows per input row that were gathered (an index-add), the values the k dot products.
/// </summary>
internal static class SparseTopKDecode
{
    /// <summary>values, indices [..., k]; decoder [d_sae, d_out]; bias [d_out] → [..., d_out].</summary>
    public static Tensor Decode(Tensor values, Tensor indices, Tensor decoder, Tensor bias)
    {
        long k = values.Shape[^1], dOut = decoder.Shape[1];
        var lead = values.Shape[..^1];
        var flatIdx = indices.Reshape(-1);                                     // [rows * k]
        var rows = decoder.IndexSelect(0, flatIdx).Reshape(-1, k, dOut);        // [rows, k, d_out]
        var weights = values.Reshape(-1, 1, k);                                // [rows, 1, k]
        var decoded = weights.MatMul(rows).Reshape(-1, dOut) + bias;          // [rows, d_out]
        return decoded.Reshape([.. lead, dOut]);
    }
}
