using System.Text.Json;

namespace MechInterp.Benchmarks.Workloads;

/// <summary>
/// A GPT-2 small checkpoint with random weights (12 layers, d_model 768, 12 heads, d_mlp 3072, vocab 50257, n_ctx 1024,
/// gelu_new) written once in Hugging Face's <c>GPT2LMHeadModel</c> format (config.json + model.safetensors, tied
/// lm_head) so every benchmark loads it through <see cref="HookedTransformer.FromPretrained"/>, the real loading path.
/// </summary>
public static class Gpt2SmallCheckpoint
{
    /// <summary>Layers.</summary>
    public const int Layers = 12;
    /// <summary>Residual width.</summary>
    public const int DModel = 768;
    /// <summary>MLP width.</summary>
    public const int DMlp = 3072;
    /// <summary>Vocabulary size.</summary>
    public const int Vocab = 50257;
    /// <summary>Context length.</summary>
    public const int NCtx = 1024;

    private static readonly object s_gate = new();

    /// <summary>Number of parameters in TransformerLens's layout (untied W_U counted once more than HF's tied head).</summary>
    public static long ParameterCount => (long)Vocab * DModel * 2 + Vocab + (long)NCtx * DModel + 2 * DModel
        + Layers * (4L * DModel * DModel + 4 * DModel + 2L * DModel * DMlp + DMlp + DModel + 4 * DModel);

    /// <summary>The checkpoint directory (under the system temp dir, overridable with MECHINTERP_BENCH_DIR); written on first use.</summary>
    public static string EnsureWritten()
    {
        string root = Environment.GetEnvironmentVariable("MECHINTERP_BENCH_DIR") is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "mechinterp-bench");
        string dir = Path.Combine(root, "gpt2-small-random");
        lock (s_gate)
        {
            if (File.Exists(Path.Combine(dir, "model.safetensors")) && File.Exists(Path.Combine(dir, "config.json"))) return dir;
            Directory.CreateDirectory(dir);
            Write(dir);
            return dir;
        }
    }

    private static void Write(string dir)
    {
        var rng = new Random(1234);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Tensor Normal(float std, params long[] shape)
        {
            long n = 1;
            foreach (var s in shape) n *= s;
            var data = new float[n];
            for (long i = 0; i < n; i += 2)
            {
                // Box-Muller, two samples per draw
                double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble(), r = Math.Sqrt(-2 * Math.Log(u1));
                data[i] = (float)(std * r * Math.Cos(2 * Math.PI * u2));
                if (i + 1 < n) data[i + 1] = (float)(std * r * Math.Sin(2 * Math.PI * u2));
            }
            return Tensor.FromArray(data, shape);
        }
        Tensor Const(float value, long n) => Tensor.Full([n], value);
        using var scope = Tensor.Scope();
        tensors["transformer.wte.weight"] = Normal(0.02f, Vocab, DModel);
        tensors["transformer.wpe.weight"] = Normal(0.01f, NCtx, DModel);
        for (int l = 0; l < Layers; l++)
        {
            string p = $"transformer.h.{l}.";
            tensors[p + "ln_1.weight"] = Const(1, DModel);
            tensors[p + "ln_1.bias"] = Const(0, DModel);
            tensors[p + "attn.c_attn.weight"] = Normal(0.02f, DModel, 3 * DModel);
            tensors[p + "attn.c_attn.bias"] = Const(0, 3 * DModel);
            tensors[p + "attn.c_proj.weight"] = Normal(0.02f / MathF.Sqrt(2 * Layers), DModel, DModel);
            tensors[p + "attn.c_proj.bias"] = Const(0, DModel);
            tensors[p + "ln_2.weight"] = Const(1, DModel);
            tensors[p + "ln_2.bias"] = Const(0, DModel);
            tensors[p + "mlp.c_fc.weight"] = Normal(0.02f, DModel, DMlp);
            tensors[p + "mlp.c_fc.bias"] = Const(0, DMlp);
            tensors[p + "mlp.c_proj.weight"] = Normal(0.02f / MathF.Sqrt(2 * Layers), DMlp, DModel);
            tensors[p + "mlp.c_proj.bias"] = Const(0, DModel);
        }
        tensors["transformer.ln_f.weight"] = Const(1, DModel);
        tensors["transformer.ln_f.bias"] = Const(0, DModel);
        SafeTensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "GPT2LMHeadModel" }, ["model_type"] = "gpt2", ["activation_function"] = "gelu_new",
            ["n_embd"] = DModel, ["n_head"] = 12, ["n_layer"] = Layers, ["n_inner"] = null, ["n_positions"] = NCtx, ["n_ctx"] = NCtx,
            ["vocab_size"] = Vocab, ["layer_norm_epsilon"] = 1e-5, ["bos_token_id"] = 50256, ["eos_token_id"] = 50256,
            ["scale_attn_weights"] = true, ["scale_attn_by_inverse_layer_idx"] = false, ["reorder_and_upcast_attn"] = false,
            ["tie_word_embeddings"] = true, ["torch_dtype"] = "float32",
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
    }
}
