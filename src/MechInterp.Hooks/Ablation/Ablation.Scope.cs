using MechInterp.Patching;

namespace MechInterp;

// Ablations that stay on while the model is used: generation, caching, other instruments.
public static partial class Ablation
{
    /// <summary>
    /// Keeps <paramref name="sites"/> ablated for every forward pass on this logical thread until the result is disposed:
    /// <c>using (Ablation.Scope(model, [Ablation.HeadSite(model, 1, 3, AblationValue.Zero)])) model.Generate(...);</c>.
    /// During generation with a key/value cache each pass sees only the new positions, so masks and values must be
    /// pooled over positions (dim 1 of size 1), as <see cref="HeadSite"/>'s are.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="sites">Hook, mask and value of each ablated component.</param>
    /// <exception cref="UnknownHookException">A site names a hook the model does not have.</exception>
    public static IDisposable Scope(IHookedModel model, IEnumerable<PatchCell> sites)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sites);
        var ctx = new HookContext();
        foreach (var site in sites)
        {
            var point = model.GetHookPoint(site.Hook);
            var mask = site.Mask.To(model.Device).DetachFromScopes();
            var value = site.Value.To(model.Device).DetachFromScopes();
            ctx.Add(point, (x, h) => PatchSweep.Write(x, mask, value, h.Name));
        }
        return ctx.Activate();
    }

    /// <summary>Head <paramref name="head"/> of layer <paramref name="layer"/> (its <c>hook_z</c> at every position)
    /// replaced by <paramref name="value"/>: zero, a dataset mean (pooled) or nothing else (a scope has no "own run" and
    /// no per-position values).</summary>
    /// <param name="model">The model.</param>
    /// <param name="layer">Layer index.</param>
    /// <param name="head">Query head index.</param>
    /// <param name="value"><see cref="AblationValue.Zero"/> or <see cref="AblationValue.Mean"/> of a dataset cache.</param>
    public static PatchCell HeadSite(IHookedModel model, int layer, int head, AblationValue value)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(value);
        int heads = model.Config.NHeads;
        if (head < 0 || head >= heads) throw new ArgumentOutOfRangeException(nameof(head), $"head {head} does not exist: the model has {heads} heads (0-{heads - 1})");
        string hook = model.GetHookPoint(ActName.Z(layer)).Name;
        var v = value.For(hook, () => throw new ArgumentException(
            "a scope ablation has no run of its own to average: pass AblationValue.Mean(datasetCache) or AblationValue.Zero", nameof(value)), model.Device);
        if (v.Rank == 4 && v.Shape[1] != 1)
            throw new ArgumentException($"a scope ablation needs one value for every position, got {Tensor.ShapeString(v.Shape)}: use AblationValue.Mean(dataset, perPosition: false)", nameof(value));
        var maskData = new bool[heads];
        maskData[head] = true;
        var mask = Tensor.FromArray(maskData, [1, 1, heads, 1], DType.Bool, model.Device);
        return new PatchCell(hook, mask, v);
    }
}
