namespace MechInterp.Analysis;

/// <summary>Hooks that knock out attention heads for a run (<c>model.RunWithHooks(tokens, HeadAblation.Zero(1, 3))</c>).</summary>
public static class HeadAblation
{
    /// <summary>Zero-ablates head <paramref name="head"/> of <paramref name="layer"/>: its hook_z
    /// [batch, pos, head, d_head] slice becomes zero, so the head writes nothing to the residual (b_O belongs to the
    /// layer, not to a head, and stays).</summary>
    public static HookSpec Zero(int layer, int head) => new(ActName.Z(layer), (z, _) =>
    {
        long heads = z.Shape[^2];
        if (head < 0 || head >= heads)
            throw new ArgumentOutOfRangeException(nameof(head), head, $"layer {layer} has heads 0..{heads - 1}");
        var keep = (Tensor.Arange(heads, device: z.Device) != head).To(z.DType).Reshape(heads, 1); // [head, 1]
        return z * keep;
    });

    /// <summary>Zero-ablates several heads of <paramref name="layer"/> at once.</summary>
    public static HookSpec Zero(int layer, IReadOnlyCollection<int> heads) => new(ActName.Z(layer), (z, _) =>
    {
        long n = z.Shape[^2];
        var keep = new float[n];
        for (int i = 0; i < n; i++) keep[i] = heads.Contains(i) ? 0 : 1;
        return z * Tensor.FromArray(keep, n, 1).To(z.Device).To(z.DType);
    });
}
