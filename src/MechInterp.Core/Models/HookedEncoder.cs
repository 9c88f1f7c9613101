using MechInterp.Models.Components;

namespace MechInterp;

/// <summary>
/// A BERT-style encoder with every activation named and hookable exactly as in TransformerLens's HookedEncoder:
/// <c>embed.hook_embed</c>, <c>embed.hook_pos_embed</c>, <c>embed.hook_token_type_embed</c>, <c>hook_full_embed</c>,
/// post-LN blocks (<c>blocks.{l}.hook_resid_pre</c> ... <c>blocks.{l}.hook_normalized_resid_post</c>) with bidirectional
/// attention and a padding mask, and, for masked-LM checkpoints, the MLM head (<c>mlm_head.ln.*</c>) and a tied
/// unembedding. Without the head (a bare BertModel such as all-MiniLM-L6-v2) the forward pass returns the last hidden
/// state. Load one with <see cref="FromPretrained(string, LoadOptions?)"/> or <see cref="FromOnnx(byte[], TextTokenizer?, LoadOptions?, int?)"/>.
/// </summary>
public sealed partial class HookedEncoder : Module, IHookedModel
{
    /// <summary>Creates an encoder with zero weights on <paramref name="device"/> (fill it with <see cref="LoadStateDict"/>).
    /// <paramref name="nTokenTypes"/> is the number of segment types (HF type_vocab_size); <paramref name="withMlmHead"/>
    /// adds the masked-LM head and unembedding.</summary>
    public HookedEncoder(HookedTransformerConfig config, Device? device = null, TextTokenizer? tokenizer = null, int nTokenTypes = 2, bool withMlmHead = true)
        : base("")
    {
        config.Validate();
        if (!config.Bidirectional)
            throw new ArgumentException("HookedEncoder needs HookedTransformerConfig.Bidirectional = true (an encoder attends both ways)", nameof(config));
        if (config.PositionalEmbeddingType != PositionalEmbeddingType.Standard || config.NormalizationType != NormalizationType.LN || !config.HasMlp)
            throw new ArgumentException("HookedEncoder implements BERT: learned positions (Standard), LayerNorm (LN) and an MLP in every block", nameof(config));
        if (nTokenTypes <= 0) throw new ArgumentOutOfRangeException(nameof(nTokenTypes), nTokenTypes, "the number of token types must be positive");
        Config = config;
        Device = device ?? Device.Cpu;
        Tokenizer = tokenizer;
        HookFullEmbed = Hook("hook_full_embed");
        Embed = Child("embed", new BertEmbed("embed", config, nTokenTypes, Device));
        Blocks = Enumerable.Range(0, config.NLayers).Select(l => Child($"blocks.{l}", new BertBlock(config, l, Device))).ToArray();
        if (withMlmHead)
        {
            MlmHead = Child("mlm_head", new BertMlmHead("mlm_head", config, Device));
            Unembed = Child("unembed", new Unembed("unembed", config.DModel, config.VocabOut, bias: true, Device));
        }
        HookRegistry = new HookRegistry(HookPoints(), config.NLayers);
    }

    /// <summary>The architecture.</summary>
    public HookedTransformerConfig Config { get; }
    /// <summary>Where the weights live.</summary>
    public Device Device { get; private set; }
    /// <summary>The WordPiece tokenizer, when one was loaded.</summary>
    public TextTokenizer? Tokenizer { get; set; }
    /// <summary>Embeddings (word + position + token type, then LayerNorm).</summary>
    public BertEmbed Embed { get; }
    /// <summary>The post-LN blocks.</summary>
    public IReadOnlyList<BertBlock> Blocks { get; }
    /// <summary>The masked-LM transform (null for a bare encoder).</summary>
    public BertMlmHead? MlmHead { get; }
    /// <summary>The unembedding tied to the word embedding, with the MLM bias (null for a bare encoder).</summary>
    public Unembed? Unembed { get; }
    /// <summary>hook_full_embed: the normalised embedding entering block 0.</summary>
    public HookPoint HookFullEmbed { get; }
    /// <summary>True when the model has the masked-LM head (Forward returns logits rather than the last hidden state).</summary>
    public bool HasMlmHead => MlmHead is not null;
    /// <summary>Number of token types (segments).</summary>
    public int NTokenTypes => (int)Embed.TokenTypeEmbed.W_token_type.Value.Shape[0];
    /// <summary>No weight processing is implemented for encoders (as in TransformerLens).</summary>
    public WeightProcessing Processing => WeightProcessing.None;

    /// <summary>The hook points by name and the hooks and modules registered on them.</summary>
    public HookRegistry HookRegistry { get; }

    /// <summary>Every hook point by name (with the hook points of attached modules).</summary>
    public IReadOnlyDictionary<string, HookPoint> HookDict => HookRegistry.All;

    /// <summary>W_E [d_vocab, d_model].</summary>
    public Tensor W_E => Embed.Embed.W_E.Value;
    /// <summary>W_pos [n_ctx, d_model].</summary>
    public Tensor W_pos => Embed.PosEmbed.W_pos.Value;
    /// <summary>W_U [d_model, d_vocab] (masked-LM models only).</summary>
    public Tensor W_U => (Unembed ?? throw NoHead("W_U")).W_U.Value;

    /// <summary>The hook point called <paramref name="name"/>; throws <see cref="UnknownHookException"/> naming the nearest valid names.</summary>
    public HookPoint GetHookPoint(string name) => HookRegistry.Get(name);

    /// <summary>Removes hooks registered on the hook points (TransformerLens's reset_hooks): of one direction or both,
    /// permanent ones too when <paramref name="includePermanent"/>, and empties each point's persistent <see cref="HookPoint.Ctx"/>
    /// unless <paramref name="clearContexts"/> is false.</summary>
    public void ResetHooks(bool includePermanent = false, HookDirection? direction = null, bool clearContexts = true) =>
        HookRegistry.Reset(includePermanent, direction, clearContexts);

    /// <summary>Registers a hook on one named point until <see cref="ResetHooks"/>; dispose the result to remove it.</summary>
    public IDisposable AddHook(string name, HookFn fn, HookDirection direction = HookDirection.Forward, bool permanent = false, bool prepend = false) =>
        HookRegistry.AddHook(name, fn, direction, permanent, prepend);

    /// <summary>Post-LN blocks end normalised, so an encoder has no final norm: returns <paramref name="residual"/>.</summary>
    public Tensor ApplyFinalNorm(Tensor residual) => residual;

    /// <summary>The masked-LM head and the tied unembedding applied to a residual stream [..., d_model]; throws for a
    /// bare encoder.</summary>
    public Tensor ToLogits(Tensor normalized) => (Unembed ?? throw NoHead("ToLogits")).Forward(MlmHead!.Forward(normalized), 0);

    /// <summary>Every parameter in TransformerLens naming and layout (attention weights as [n_heads, d_model, d_head],
    /// <c>mlm_head.W</c> as [d_model_out, d_model_in]).</summary>
    public Dictionary<string, Tensor> StateDict() =>
        NamedParameters().ToDictionary(p => p.Name, p => p.Name == "mlm_head.W" ? p.Parameter.Value.T.Contiguous() : StateDictMapping.ToTransformerLens(Config, p.Name, p.Parameter.Value), StringComparer.Ordinal);

    /// <summary>Loads parameters named and shaped as <see cref="StateDict"/> produces; every parameter must be present.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict) => EncoderStateDict.Import(this, stateDict);

    private InvalidOperationException NoHead(string what) => new(
        $"{what} needs the masked-LM head, but model '{Config.ModelName}' is a bare encoder (e.g. BertModel): use the last hidden state (Forward's output or blocks.{Config.NLayers - 1}.hook_normalized_resid_post)");
}
