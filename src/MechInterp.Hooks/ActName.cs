using System.Text.RegularExpressions;

namespace MechInterp;

/// <summary>Builds TransformerLens hook names without string typos (TransformerLens's utils.get_act_name): short names
/// with a layer ("pattern", 3), TransformerLens's aliases ("attn_logits", "mlp_post", "key", ...), sublayer aliases
/// ("a", "m", "attention", "block") and the compact forms ("k6", "pre5", "scale4ln1").</summary>
public static partial class ActName
{
    private static readonly Dictionary<string, string> s_blockHooks = new(StringComparer.Ordinal)
    {
        ["resid_pre"] = "hook_resid_pre", ["resid_mid"] = "hook_resid_mid", ["resid_post"] = "hook_resid_post",
        ["attn_out"] = "hook_attn_out", ["mlp_out"] = "hook_mlp_out", ["mlp_in"] = "hook_mlp_in", ["attn_in"] = "hook_attn_in",
        ["q_input"] = "hook_q_input", ["k_input"] = "hook_k_input", ["v_input"] = "hook_v_input",
    };

    /// <summary>Short names that live inside attention (TransformerLens puts them under "attn.").</summary>
    private static readonly HashSet<string> s_attnHooks = new(StringComparer.Ordinal)
        { "q", "k", "v", "z", "rot_q", "rot_k", "result", "pattern", "attn_scores" };

    /// <summary>Short names that live inside the MLP ("mid" is SoLU's pre-norm activation).</summary>
    private static readonly HashSet<string> s_mlpHooks = new(StringComparer.Ordinal) { "pre", "pre_linear", "post", "mid" };

    /// <summary>TransformerLens's act_name_alias.</summary>
    private static readonly Dictionary<string, string> s_aliases = new(StringComparer.Ordinal)
    {
        ["attn"] = "pattern", ["attn_logits"] = "attn_scores", ["key"] = "k", ["query"] = "q", ["value"] = "v",
        ["mlp_pre"] = "pre", ["mlp_mid"] = "mid", ["mlp_post"] = "post",
    };

    /// <summary>TransformerLens's layer_type_alias ("" = directly on the block).</summary>
    private static readonly Dictionary<string, string> s_layerTypeAliases = new(StringComparer.Ordinal)
    {
        ["a"] = "attn", ["m"] = "mlp", ["b"] = "", ["block"] = "", ["blocks"] = "", ["attention"] = "attn",
    };

    /// <summary>"k6", "pre5", "scale4ln1": letters, a layer number, then an optional sublayer.</summary>
    [GeneratedRegex(@"^([a-z]+)(\d+)([a-z]?.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex CompactForm();

    /// <summary>
    /// Full name from a short name, e.g. ("pattern", 3) → "blocks.3.attn.hook_pattern"; ("scale", 2, "ln1") →
    /// "blocks.2.ln1.hook_scale"; ("embed") → "hook_embed"; ("scale", null, "ln_final") → "ln_final.hook_scale";
    /// ("k", 6, "a") → "blocks.6.attn.hook_k"; "k6" → "blocks.6.attn.hook_k"; "scale4ln1" → "blocks.4.ln1.hook_scale";
    /// ("attn_logits", 0) → "blocks.0.attn.hook_attn_scores". A full name (containing "hook_" or a dot) is returned
    /// unchanged when no layer is given. Layers here are non-negative: the cache resolves negative ones.
    /// </summary>
    /// <exception cref="ArgumentException">The short name is unknown, or a block activation has no layer.</exception>
    public static string Get(string name, int? layer = null, string? layerType = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (layer is null && layerType is null && (name.Contains("hook_", StringComparison.Ordinal) || name.Contains('.'))) return name;
        if (layer is null && CompactForm().Match(name) is { Success: true } m)
        {
            name = m.Groups[1].Value;
            layer = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (m.Groups[3].Value.Length > 0) layerType = m.Groups[3].Value;
        }
        if (layer is < 0)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"ActName.Get takes a layer >= 0; index the cache (cache[\"{name}\", {layer}]) to count from the end");
        if (s_aliases.TryGetValue(name, out var canonical)) name = canonical;
        if (name is "embed" or "pos_embed") return "hook_" + name;
        if (name is "scale" or "normalized")
        {
            string ln = layerType ?? (layer is null ? "ln_final" : throw new ArgumentException($"'{name}' at layer {layer} needs layerType \"ln1\" or \"ln2\" (e.g. ActName.Get(\"{name}\", {layer}, \"ln1\") or \"{name}{layer}ln1\")", nameof(layerType)));
            return ln == "ln_final" ? $"ln_final.hook_{name}" : $"blocks.{Require(name, layer)}.{ln}.hook_{name}";
        }
        if (s_attnHooks.Contains(name)) return $"blocks.{Require(name, layer)}.attn.hook_{name}";
        if (s_mlpHooks.Contains(name)) return $"blocks.{Require(name, layer)}.mlp.hook_{name}";
        if (s_blockHooks.TryGetValue(name, out var suffix))
        {
            string sub = layerType is null ? "" : s_layerTypeAliases.TryGetValue(layerType, out var alias) ? alias : layerType;
            return sub.Length == 0 ? $"blocks.{Require(name, layer)}.{suffix}" : $"blocks.{Require(name, layer)}.{sub}.{suffix}";
        }
        throw new ArgumentException($"unknown activation short name '{name}'; known: {string.Join(", ", KnownShortNames)} (aliases: {string.Join(", ", s_aliases.Keys)})", nameof(name));
    }

    private static IEnumerable<string> KnownShortNames =>
        s_blockHooks.Keys.Concat(s_attnHooks).Concat(s_mlpHooks).Concat(["embed", "pos_embed", "scale", "normalized"]);

    private static int Require(string name, int? layer) =>
        layer ?? throw new ArgumentException($"activation '{name}' lives in a block: pass its layer index (or the compact form, e.g. \"{name}0\")");

    /// <summary>blocks.{l}.hook_resid_pre</summary>
    public static string ResidPre(int layer) => Get("resid_pre", layer);
    /// <summary>blocks.{l}.hook_resid_mid</summary>
    public static string ResidMid(int layer) => Get("resid_mid", layer);
    /// <summary>blocks.{l}.hook_resid_post</summary>
    public static string ResidPost(int layer) => Get("resid_post", layer);
    /// <summary>blocks.{l}.hook_attn_out</summary>
    public static string AttnOut(int layer) => Get("attn_out", layer);
    /// <summary>blocks.{l}.hook_mlp_out</summary>
    public static string MlpOut(int layer) => Get("mlp_out", layer);
    /// <summary>blocks.{l}.attn.hook_q</summary>
    public static string Q(int layer) => Get("q", layer);
    /// <summary>blocks.{l}.attn.hook_k</summary>
    public static string K(int layer) => Get("k", layer);
    /// <summary>blocks.{l}.attn.hook_v</summary>
    public static string V(int layer) => Get("v", layer);
    /// <summary>blocks.{l}.attn.hook_z</summary>
    public static string Z(int layer) => Get("z", layer);
    /// <summary>blocks.{l}.attn.hook_result</summary>
    public static string Result(int layer) => Get("result", layer);
    /// <summary>blocks.{l}.attn.hook_pattern</summary>
    public static string Pattern(int layer) => Get("pattern", layer);
    /// <summary>blocks.{l}.attn.hook_attn_scores</summary>
    public static string AttnScores(int layer) => Get("attn_scores", layer);
    /// <summary>blocks.{l}.mlp.hook_pre</summary>
    public static string MlpPre(int layer) => Get("pre", layer);
    /// <summary>blocks.{l}.mlp.hook_post</summary>
    public static string MlpPost(int layer) => Get("post", layer);
    /// <summary>hook_embed</summary>
    public static string Embed => "hook_embed";
    /// <summary>hook_pos_embed</summary>
    public static string PosEmbed => "hook_pos_embed";
}
