namespace MechInterp;

/// <summary>Input checks shared by the hooked models.</summary>
internal static class ModelInputs
{
    /// <summary>Token ids as [batch, pos] Int64 on <paramref name="device"/>, checked against the vocabulary.</summary>
    public static Tensor PrepareTokens(Tensor input, Device device, int vocab)
    {
        var t = input.Rank == 1 ? input.Unsqueeze(0) : input;
        if (t.Rank != 2) throw new ArgumentException($"tokens must be [batch, pos] (or [pos]), got {Tensor.ShapeString(input.Shape)}");
        if (t.DType.IsFloatingPoint()) throw new ArgumentException($"tokens must be integer ids, got {t.DType}: did you mean to pass a residual stream with StartAtLayer?");
        if (t.Shape[0] == 0 || t.Shape[1] == 0)
            throw new ArgumentException($"the token sequence is empty ({Tensor.ShapeString(t.Shape)}): a forward pass needs at least one token per row (a BOS token alone is fine)");
        t = t.To(DType.Int64).To(device);
        if (t.NumElements > 0)
            using (GradMode.NoGrad())
            {
                long lo = t.Min().Item<long>(), hi = t.Max().Item<long>();
                if (lo < 0 || hi >= vocab)
                    throw new ArgumentException($"token ids range over [{lo}, {hi}] but the vocabulary has {vocab} entries (0..{vocab - 1})");
            }
        return t;
    }
}
