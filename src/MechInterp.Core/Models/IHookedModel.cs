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

    /// <summary>Every hook point by its TransformerLens name, in forward order (with those of attached modules).</summary>
    IReadOnlyDictionary<string, HookPoint> HookDict { get; }

    /// <summary>The hook points and what is registered on them until reset: hooks (AddHook, Reset) and modules spliced
    /// in at run time (Attach).</summary>
    HookRegistry HookRegistry { get; }

    /// <summary>The tokenizer, when the checkpoint had one.</summary>
    TextTokenizer? Tokenizer { get; }

    /// <summary>Token ids [1, pos] of <paramref name="text"/>, with the model's default special tokens (BOS for most
    /// decoders, [CLS] … [SEP] for an encoder).</summary>
    Tensor ToTokens(string text);

    /// <summary>One string per token of a [pos] or [1, pos] id tensor.</summary>
    string[] ToStrTokens(Tensor tokens);

    /// <summary>What the model applies to the residual stream after its last block and before the unembedding
    /// (ln_final for a decoder; nothing for a post-LN encoder), on a residual stream [..., d_model].</summary>
    Tensor ApplyFinalNorm(Tensor residual);

    /// <summary>Logits [..., d_vocab] of a normalised residual stream (the unembedding; for an encoder the masked-LM head
    /// first). Throws for a model without an unembedding (a bare encoder).</summary>
    Tensor ToLogits(Tensor normalized);

    /// <summary>The hook point called <paramref name="name"/>; throws <see cref="UnknownHookException"/> naming the nearest valid names.</summary>
    HookPoint GetHookPoint(string name);

    /// <summary>Runs the model on token ids [batch, pos]; returns what <see cref="CommonForwardOptions.ReturnType"/> asks
    /// for. <paramref name="options"/> are the common ones or the model's own record (<see cref="ForwardOptions"/> for a
    /// decoder, <see cref="EncoderForwardOptions"/> for an encoder); the other kind's record is refused.</summary>
    Tensor Forward(Tensor input, CommonForwardOptions? options = null);

    /// <summary>Runs the model and returns logits and/or loss as <see cref="CommonForwardOptions.ReturnType"/> asks
    /// (options as for <see cref="Forward"/>).</summary>
    ForwardOutput ForwardFull(Tensor input, CommonForwardOptions? options = null);
}
