using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MechInterp.Training;

/// <summary>
/// Saves a <see cref="HookedTransformer"/> as a Hugging Face-style folder that
/// <see cref="HookedTransformer.FromPretrained(string, LoadOptions?)"/> loads back with identical logits: a
/// <c>config.json</c> whose <c>architectures</c> is <c>["HookedTransformer"]</c> and whose other fields are the
/// <see cref="HookedTransformerConfig"/> in TransformerLens's snake_case names (n_layers, d_model, attn_only, ...),
/// and a <c>model.safetensors</c> with the TransformerLens state dict (W_Q [n_heads, d_model, d_head], ...).
/// Any architecture this library builds can be saved, attention-only models included.
/// </summary>
public static class Checkpoint
{
    /// <summary>The architecture name written to config.json.</summary>
    public const string ArchitectureName = "HookedTransformer";

    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
    };

    /// <summary>Writes <paramref name="model"/> to <paramref name="directory"/> (created if needed; existing files
    /// are replaced, each atomically).</summary>
    public static void Save(HookedTransformer model, string directory)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory.CreateDirectory(directory);
        var json = JsonSerializer.SerializeToNode(model.Config with { ModelName = null }, JsonOptions)!.AsObject();
        var root = new JsonObject { ["architectures"] = new JsonArray(ArchitectureName), ["model_type"] = "hooked_transformer" };
        foreach (var (key, value) in json.ToList())
        {
            json.Remove(key);
            root[key] = value;
        }
        var configPath = Path.Combine(directory, "config.json");
        var temp = configPath + ".tmp";
        File.WriteAllText(temp, root.ToJsonString(JsonOptions));
        File.Move(temp, configPath, overwrite: true);
        using var scope = Tensor.Scope();
        var state = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.To(Device.Cpu).Contiguous());
        SafeTensorsWriter.Write(Path.Combine(directory, "model.safetensors"), state, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>Reads the config of a folder written by <see cref="Save"/>.</summary>
    internal static HookedTransformerConfig ReadConfig(string configPath)
    {
        try
        {
            return JsonSerializer.Deserialize<HookedTransformerConfig>(File.ReadAllText(configPath), JsonOptions)
                ?? throw new InvalidDataException($"'{configPath}' holds no HookedTransformer config");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{configPath}' is not a HookedTransformer config ({e.Message}): save the model again with Checkpoint.Save", e);
        }
    }
}
