namespace MechInterp;

/// <summary>Builds TransformerLens hook names without string typos (TransformerLens's utils.get_act_name).</summary>
public static class ActName
{
    private static readonly Dictionary<string, string> s_blockHooks = new(StringComparer.Ordinal)
    {
        ["resid_pre"] = "hook_resid_pre", ["resid_mid"] = "hook_resid_mid", ["resid_post"] = "hook_resid_post",
        ["attn_out"] = "hook_attn_out", ["mlp_out"] = "hook_mlp_out", ["mlp_in"] = "hook_mlp_in", ["attn_in"] = "hook_attn_in",
        ["q_input"] = "hook_q_input", ["k_input"] = "hook_k_input", ["v_input"] = "hook_v_input",
        ["q"] = "attn.hook_q", ["k"] = "attn.hook_k", ["v"] = "attn.hook_v", ["z"] = "attn.hook_z",
        ["rot_q"] = "attn.hook_rot_q", ["rot_k"] = "attn.hook_rot_k", ["result"] = "attn.hook_result",
        ["pattern"] = "attn.hook_pattern", ["attn"] = "attn.hook_pattern", ["attn_scores"] = "attn.hook_attn_scores",
        ["pre"] = "mlp.hook_pre", ["pre_linear"] = "mlp.hook_pre_linear", ["post"] = "mlp.hook_post",
    };

    /// <summary>Full name from a short name, e.g. ("pattern", 3) → "blocks.3.attn.hook_pattern"; ("scale", 2, "ln1") →
    /// "blocks.2.ln1.hook_scale"; ("embed") → "hook_embed"; ("scale", null, "ln_final") → "ln_final.hook_scale".
    /// A name that already contains "hook_" is returned unchanged.</summary>
    public static string Get(string name, int? layer = null, string? layerType = null)
    {
        if (name.Contains("hook_", StringComparison.Ordinal)) return name;
        if (name is "embed" or "pos_embed") return "hook_" + name;
        if (name is "scale" or "normalized")
        {
            string ln = layerType ?? (layer is null ? "ln_final" : throw new ArgumentException($"'{name}' needs layerType \"ln1\", \"ln2\" or \"ln_final\""));
            return ln == "ln_final" ? $"ln_final.hook_{name}" : $"blocks.{Require(name, layer)}.{ln}.hook_{name}";
        }
        if (!s_blockHooks.TryGetValue(name, out var suffix))
            throw new ArgumentException($"unknown activation short name '{name}'; known: {string.Join(", ", s_blockHooks.Keys.Concat(["embed", "pos_embed", "scale", "normalized"]))}");
        return $"blocks.{Require(name, layer)}.{suffix}";
    }

    private static int Require(string name, int? layer) =>
        layer ?? throw new ArgumentException($"activation '{name}' lives in a block: pass its layer index");

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
