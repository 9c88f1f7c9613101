namespace MechInterp.Models.Components;

/// <summary>
/// BERT's embedding (TransformerLens's BertEmbed): <c>ln(embed.hook_embed + embed.hook_pos_embed +
/// embed.hook_token_type_embed)</c>, with word, learned position and token-type tables and a LayerNorm.
/// Positions are 0..pos-1 in every row (right padding keeps real tokens at their positions).
/// </summary>
public sealed class BertEmbed : Module
{
    /// <summary>Creates zero-initialised tables for <paramref name="cfg"/> with <paramref name="nTokenTypes"/> segment types.</summary>
    public BertEmbed(string prefix, HookedTransformerConfig cfg, int nTokenTypes, Device device) : base(prefix)
    {
        Embed = Child("embed", new Embed(FullName("embed"), cfg.DVocab, cfg.DModel, device));
        PosEmbed = Child("pos_embed", new PosEmbed(FullName("pos_embed"), cfg.NCtx, cfg.DModel, device));
        TokenTypeEmbed = Child("token_type_embed", new TokenTypeEmbed(FullName("token_type_embed"), nTokenTypes, cfg.DModel, device));
        Ln = Child("ln", new Normalization(FullName("ln"), cfg.NormalizationType, cfg.DModel, cfg.Eps, device));
        HookEmbed = Hook("hook_embed");
        HookPosEmbed = Hook("hook_pos_embed");
        HookTokenTypeEmbed = Hook("hook_token_type_embed");
    }

    /// <summary>Word embedding (embed.embed.W_E).</summary>
    public Embed Embed { get; }
    /// <summary>Position embedding (embed.pos_embed.W_pos).</summary>
    public PosEmbed PosEmbed { get; }
    /// <summary>Token-type embedding (embed.token_type_embed.W_token_type).</summary>
    public TokenTypeEmbed TokenTypeEmbed { get; }
    /// <summary>The LayerNorm over the sum (embed.ln).</summary>
    public Normalization Ln { get; }
    /// <summary>embed.hook_embed [batch, pos, d_model].</summary>
    public HookPoint HookEmbed { get; }
    /// <summary>embed.hook_pos_embed [batch, pos, d_model].</summary>
    public HookPoint HookPosEmbed { get; }
    /// <summary>embed.hook_token_type_embed [batch, pos, d_model].</summary>
    public HookPoint HookTokenTypeEmbed { get; }

    /// <summary>Embeds tokens [batch, pos] with their token types [batch, pos] (Int64).</summary>
    public Tensor Forward(Tensor tokens, Tensor tokenTypeIds)
    {
        long b = tokens.Shape[0], p = tokens.Shape[1];
        var positions = Tensor.Arange(p, device: tokens.Device).Unsqueeze(0).Expand(b, p);
        var word = HookEmbed.Invoke(Embed.Forward(tokens));
        var pos = HookPosEmbed.Invoke(PosEmbed.Forward(positions));
        var type = HookTokenTypeEmbed.Invoke(TokenTypeEmbed.Forward(tokenTypeIds));
        return Ln.Forward(word + pos + type);
    }
}
