namespace MechInterp.Analysis;

/// <summary>RunWithCache / RunWithHooks on an <see cref="IHookedModel"/>, until the extension methods take one
/// directly (they are written per model type today).</summary>
internal static class ModelDispatch
{
    public static (Tensor Logits, ActivationCache Cache) RunWithCache(IHookedModel model, Tensor tokens, Func<string, bool>? namesFilter = null,
        ForwardOptions? options = null) => model switch
    {
        HookedTransformer decoder => decoder.RunWithCache(tokens, namesFilter, options: options),
        HookedEncoder encoder => encoder.RunWithCache(tokens, namesFilter, options: options),
        _ => throw new NotSupportedException($"RunWithCache does not know the model type {model.GetType().Name}"),
    };

    public static Tensor RunWithHooks(IHookedModel model, Tensor tokens, IEnumerable<HookSpec> hooks, ForwardOptions? options = null) => model switch
    {
        HookedTransformer decoder => decoder.RunWithHooks(tokens, hooks, null, options),
        HookedEncoder encoder => encoder.RunWithHooks(tokens, hooks, null, options),
        _ => throw new NotSupportedException($"RunWithHooks does not know the model type {model.GetType().Name}"),
    };
}
