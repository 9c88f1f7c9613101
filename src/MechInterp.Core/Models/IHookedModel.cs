namespace MechInterp;

/// <summary>
/// What instruments (RunWithHooks, RunWithCache, hook contexts) need from a hooked model, so they work the same on
/// a decoder (<see cref="HookedTransformer"/>) and an encoder (<see cref="HookedEncoder"/>): the named hook points,
/// the architecture, and a forward pass that returns logits and, on request, a loss.
/// </summary>
public interface IHookedModel
{
    /// <summary>The architecture (layer count, widths, heads, ...).</summary>
    HookedTransformerConfig Config { get; }

    /// <summary>Where the weights live.</summary>
    Device Device { get; }

    /// <summary>Which weight processing steps have been applied (recorded on every cache).</summary>
    WeightProcessing Processing { get; }

    /// <summary>Every hook point by its TransformerLens name.</summary>
    IReadOnlyDictionary<string, HookPoint> HookDict { get; }

    /// <summary>The hook point called <paramref name="name"/>; throws <see cref="UnknownHookException"/> naming the nearest valid names.</summary>
    HookPoint GetHookPoint(string name);

    /// <summary>Runs the model on token ids [batch, pos]; returns what <see cref="ForwardOptions.ReturnType"/> asks for.</summary>
    Tensor Forward(Tensor input, ForwardOptions? options = null);

    /// <summary>Runs the model and returns logits and/or loss as <see cref="ForwardOptions.ReturnType"/> asks.</summary>
    ForwardOutput ForwardFull(Tensor input, ForwardOptions? options = null);
}
