using MechInterp.Models.Components;

namespace MechInterp;

/// <summary>
/// A decoder-only transformer with every activation named and hookable exactly as in TransformerLens's
/// HookedTransformer. The model is plain; instruments (RunWithHooks, RunWithCache, patching) attach from outside
/// through its <see cref="HookPoint"/>s. Load one with <see cref="FromPretrained(string, LoadOptions?)"/>.
/// </summary>
public sealed partial class HookedTransformer : Module, IHookedModel
{
    /// <summary>Creates a model with zero weights on <paramref name="device"/> (fill it with <see cref="LoadStateDict"/>).</summary>
    public HookedTransformer(HookedTransformerConfig config, Device? device = null, TextTokenizer? tokenizer = null) : base("")
    {
        config.Validate();
        Config = config;
        Device = device ?? Device.Cpu;
        Tokenizer = tokenizer;
        Embed = Child("embed", new Embed("embed", config.DVocab, config.DModel, Device));
        HookEmbed = Hook("hook_embed");
        if (config.PositionalEmbeddingType == PositionalEmbeddingType.Standard)
        {
            PosEmbed = Child("pos_embed", new PosEmbed("pos_embed", config.NCtx, config.DModel, Device));
            HookPosEmbed = Hook("hook_pos_embed");
        }
        Blocks = Enumerable.Range(0, config.NLayers).Select(l => Child($"blocks.{l}", new TransformerBlock(config, l, Device))).ToArray();
        LnFinal = Child("ln_final", new Normalization("ln_final", config.NormalizationType, config.DModel, config.Eps, Device));
        Unembed = Child("unembed", new Unembed("unembed", config.DModel, config.VocabOut, config.UnembedBias, Device));
        HookRegistry = new HookRegistry(HookPoints(), config.NLayers);
    }

    /// <summary>The architecture (replaced, not edited, by the SetUse... toggles).</summary>
    public HookedTransformerConfig Config { get; private set; }
    /// <summary>Where the weights live.</summary>
    public Device Device { get; private set; }
    /// <summary>The tokenizer, when the checkpoint had one.</summary>
    public TextTokenizer? Tokenizer { get; set; }
    /// <summary>Token embedding.</summary>
    public Embed Embed { get; }
    /// <summary>Learned positions (standard positional embedding only).</summary>
    public PosEmbed? PosEmbed { get; }
    /// <summary>The blocks.</summary>
    public IReadOnlyList<TransformerBlock> Blocks { get; }
    /// <summary>Final norm.</summary>
    public Normalization LnFinal { get; }
    /// <summary>Unembedding.</summary>
    public Unembed Unembed { get; }
    /// <summary>hook_embed.</summary>
    public HookPoint HookEmbed { get; }
    /// <summary>hook_pos_embed (standard positions only).</summary>
    public HookPoint? HookPosEmbed { get; }
    /// <summary>Which weight processing steps have been applied (recorded on every cache too).</summary>
    public WeightProcessing Processing { get; internal set; } = WeightProcessing.None;

    /// <summary>The hook points by name and the hooks and modules registered on them.</summary>
    public HookRegistry HookRegistry { get; }

    /// <summary>Every hook point by name, in forward order (with the hook points of attached modules).</summary>
    public IReadOnlyDictionary<string, HookPoint> HookDict => HookRegistry.All;

    /// <summary>W_E [d_vocab, d_model].</summary>
    public Tensor W_E => Embed.W_E.Value;
    /// <summary>W_U [d_model, d_vocab].</summary>
    public Tensor W_U => Unembed.W_U.Value;
    /// <summary>W_pos [n_ctx, d_model] (standard positions only).</summary>
    public Tensor? W_pos => PosEmbed?.W_pos.Value;

    /// <summary>The hook point called <paramref name="name"/>; throws <see cref="UnknownHookException"/> naming the nearest valid names.</summary>
    public HookPoint GetHookPoint(string name) => HookRegistry.Get(name);

    /// <summary>Removes hooks registered on the hook points (TransformerLens's reset_hooks): of one direction or both,
    /// permanent ones too when <paramref name="includePermanent"/>, and empties each point's persistent <see cref="HookPoint.Ctx"/>
    /// unless <paramref name="clearContexts"/> is false.</summary>
    public void ResetHooks(bool includePermanent = false, HookDirection? direction = null, bool clearContexts = true) =>
        HookRegistry.Reset(includePermanent, direction, clearContexts);

    /// <summary>Registers a hook on one named point until <see cref="ResetHooks"/>.</summary>
    public IDisposable AddHook(string name, HookFn fn, HookDirection direction = HookDirection.Forward, bool permanent = false, bool prepend = false) =>
        HookRegistry.AddHook(name, fn, direction, permanent, prepend);

    /// <summary>Registers a hook on every point whose name passes <paramref name="filter"/>.</summary>
    public IDisposable AddHook(Func<string, bool> filter, HookFn fn, HookDirection direction = HookDirection.Forward, bool permanent = false, bool prepend = false) =>
        HookRegistry.AddHook(filter, fn, direction, permanent, prepend);

    /// <summary>Registers a hook that survives <see cref="ResetHooks"/> (unless includePermanent).</summary>
    public IDisposable AddPermanentHook(string name, HookFn fn, HookDirection direction = HookDirection.Forward) =>
        HookRegistry.AddHook(name, fn, direction, permanent: true);

    /// <summary>ln_final applied to a residual stream [..., d_model] (its hook points fire).</summary>
    public Tensor ApplyFinalNorm(Tensor residual) => LnFinal.Forward(residual);

    /// <summary>The unembedding (with the output soft cap, where the model has one) of a normalised residual stream.</summary>
    public Tensor ToLogits(Tensor normalized) => Unembed.Forward(normalized, Config.OutputLogitsSoftCap);

    Tensor IHookedModel.ToTokens(string text) => ToTokens(text);

    /// <summary>Every parameter in TransformerLens naming and layout (W_Q as [n_heads, d_model, d_head], ...).</summary>
    public Dictionary<string, Tensor> StateDict() => StateDictMapping.Export(this);

    /// <summary>Loads parameters named and shaped as <see cref="StateDict"/> produces; every parameter must be present.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict) => StateDictMapping.Import(this, stateDict);
}
