namespace MechInterp.Tests.Hooks;

/// <summary>
/// The hook names and shapes a RunWithCache on a fixture input [2, 12] must record, in forward order, written out
/// from TransformerLens's conventions and each fixture's config.json (d_model 64, 4 heads of 16, vocab 512, 2 layers).
/// Per-block lines use {L} for the layer index; shapes are literal.
/// </summary>
internal static class HookTables
{
    private static readonly string[] s_learnedPositions = ["hook_embed 2,12,64", "hook_pos_embed 2,12,64"];
    private static readonly string[] s_noPositions = ["hook_embed 2,12,64"];

    private static readonly string[] s_final =
    [
        "ln_final.hook_scale 2,12,1", "ln_final.hook_normalized 2,12,64", "unembed.hook_in 2,12,64", "unembed.hook_out 2,12,512",
    ];

    /// <summary>GPT-2, GPT-Neo, OPT: LayerNorm, learned positions, sequential block, MHA, d_mlp 256.</summary>
    private static readonly string[] s_sequentialLn =
    [
        "hook_resid_pre 2,12,64",
        "ln1.hook_scale 2,12,1", "ln1.hook_normalized 2,12,64",
        "attn.hook_q 2,12,4,16", "attn.hook_k 2,12,4,16", "attn.hook_v 2,12,4,16",
        "attn.hook_attn_scores 2,4,12,12", "attn.hook_pattern 2,4,12,12", "attn.hook_z 2,12,4,16",
        "hook_attn_out 2,12,64", "hook_resid_mid 2,12,64",
        "ln2.hook_scale 2,12,1", "ln2.hook_normalized 2,12,64",
        "mlp.hook_pre 2,12,256", "mlp.hook_post 2,12,256",
        "hook_mlp_out 2,12,64", "hook_resid_post 2,12,64",
    ];

    /// <summary>Pythia, GPT-J, Phi: LayerNorm, rotary, parallel attention + MLP (no resid_mid), MHA, d_mlp 256.</summary>
    private static readonly string[] s_parallelRotaryLn =
    [
        "hook_resid_pre 2,12,64",
        "ln1.hook_scale 2,12,1", "ln1.hook_normalized 2,12,64",
        "attn.hook_q 2,12,4,16", "attn.hook_k 2,12,4,16", "attn.hook_v 2,12,4,16",
        "attn.hook_rot_q 2,12,4,16", "attn.hook_rot_k 2,12,4,16",
        "attn.hook_attn_scores 2,4,12,12", "attn.hook_pattern 2,4,12,12", "attn.hook_z 2,12,4,16",
        "hook_attn_out 2,12,64",
        "ln2.hook_scale 2,12,1", "ln2.hook_normalized 2,12,64",
        "mlp.hook_pre 2,12,256", "mlp.hook_post 2,12,256",
        "hook_mlp_out 2,12,64", "hook_resid_post 2,12,64",
    ];

    /// <summary>Llama, Mistral: RMSNorm, rotary, GQA with 2 key/value heads, gated MLP with d_mlp 176.</summary>
    private static readonly string[] s_llama =
    [
        "hook_resid_pre 2,12,64",
        "ln1.hook_scale 2,12,1", "ln1.hook_normalized 2,12,64",
        "attn.hook_q 2,12,4,16", "attn.hook_k 2,12,2,16", "attn.hook_v 2,12,2,16",
        "attn.hook_rot_q 2,12,4,16", "attn.hook_rot_k 2,12,2,16",
        "attn.hook_attn_scores 2,4,12,12", "attn.hook_pattern 2,4,12,12", "attn.hook_z 2,12,4,16",
        "hook_attn_out 2,12,64", "hook_resid_mid 2,12,64",
        "ln2.hook_scale 2,12,1", "ln2.hook_normalized 2,12,64",
        "mlp.hook_pre 2,12,176", "mlp.hook_pre_linear 2,12,176", "mlp.hook_post 2,12,176",
        "hook_mlp_out 2,12,64", "hook_resid_post 2,12,64",
    ];

    /// <summary>Gemma: as Llama with one key/value head (MQA) and d_mlp 128.</summary>
    private static readonly string[] s_gemma =
    [
        "hook_resid_pre 2,12,64",
        "ln1.hook_scale 2,12,1", "ln1.hook_normalized 2,12,64",
        "attn.hook_q 2,12,4,16", "attn.hook_k 2,12,1,16", "attn.hook_v 2,12,1,16",
        "attn.hook_rot_q 2,12,4,16", "attn.hook_rot_k 2,12,1,16",
        "attn.hook_attn_scores 2,4,12,12", "attn.hook_pattern 2,4,12,12", "attn.hook_z 2,12,4,16",
        "hook_attn_out 2,12,64", "hook_resid_mid 2,12,64",
        "ln2.hook_scale 2,12,1", "ln2.hook_normalized 2,12,64",
        "mlp.hook_pre 2,12,128", "mlp.hook_pre_linear 2,12,128", "mlp.hook_post 2,12,128",
        "hook_mlp_out 2,12,64", "hook_resid_post 2,12,64",
    ];

    /// <summary>Gemma 2: Gemma plus the norms after attention (ln1_post) and after the MLP (ln2_post).</summary>
    private static readonly string[] s_gemma2 =
    [
        "hook_resid_pre 2,12,64",
        "ln1.hook_scale 2,12,1", "ln1.hook_normalized 2,12,64",
        "attn.hook_q 2,12,4,16", "attn.hook_k 2,12,1,16", "attn.hook_v 2,12,1,16",
        "attn.hook_rot_q 2,12,4,16", "attn.hook_rot_k 2,12,1,16",
        "attn.hook_attn_scores 2,4,12,12", "attn.hook_pattern 2,4,12,12", "attn.hook_z 2,12,4,16",
        "ln1_post.hook_scale 2,12,1", "ln1_post.hook_normalized 2,12,64",
        "hook_attn_out 2,12,64", "hook_resid_mid 2,12,64",
        "ln2.hook_scale 2,12,1", "ln2.hook_normalized 2,12,64",
        "mlp.hook_pre 2,12,128", "mlp.hook_pre_linear 2,12,128", "mlp.hook_post 2,12,128",
        "ln2_post.hook_scale 2,12,1", "ln2_post.hook_normalized 2,12,64",
        "hook_mlp_out 2,12,64", "hook_resid_post 2,12,64",
    ];

    /// <summary>The expected (name, shape) list of a fixture, in forward order.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> For(string fixture) => fixture switch
    {
        "gpt2-tiny" or "neo-tiny" or "opt-tiny" => Expand(s_learnedPositions, s_sequentialLn),
        "pythia-tiny" or "gptj-tiny" or "phi-tiny" => Expand(s_noPositions, s_parallelRotaryLn),
        "llama-tiny" or "mistral-tiny" => Expand(s_noPositions, s_llama),
        "gemma-tiny" => Expand(s_noPositions, s_gemma),
        "gemma2-tiny" => Expand(s_noPositions, s_gemma2),
        _ => throw new ArgumentException($"no hook table for {fixture}"),
    };

    /// <summary>Parses "name d0,d1,..." lines.</summary>
    public static (string Name, long[] Shape) Parse(string line)
    {
        var parts = line.Split(' ');
        return (parts[0], parts[1].Split(',').Select(long.Parse).ToArray());
    }

    private static List<(string, long[])> Expand(string[] embeds, string[] block)
    {
        var lines = new List<string>(embeds);
        for (int l = 0; l < 2; l++) lines.AddRange(block.Select(b => $"blocks.{l}.{b}"));
        lines.AddRange(s_final);
        return lines.Select(Parse).ToList();
    }
}
