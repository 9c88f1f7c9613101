using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MechInterp.Saes;

/// <summary>
/// Reads and writes SAELens's <c>cfg.json</c>: the 6.x layout (hook and model fields under <c>metadata</c>) and the
/// pre-6.0 flat layout, converted as SAELens 6.18's <c>handle_pre_6_0_config</c> does. Keys the inference config does
/// not have (training fields of a checkpoint) are ignored; key order carries no meaning.
/// </summary>
public static class SaeConfigJson
{
    /// <summary>The SAELens version whose folder format this library writes (written as <c>metadata.sae_lens_version</c>).</summary>
    public const string FormatVersion = "6.18.0";

    // Fields SAELens moves from the top level into metadata when converting a pre-6.0 cfg.
    private static readonly string[] s_legacyMetadataKeys =
    [
        "model_name", "hook_name", "model_class_name", "hook_head_index", "model_from_pretrained_kwargs", "prepend_bos",
        "exclude_special_tokens", "neuronpedia_id", "context_size", "seqpos_slice", "dataset_path", "sae_lens_version",
        "sae_lens_training_version", "hook_name_out", "hook_head_index_out",
    ];

    /// <summary>Parses cfg.json text; <paramref name="file"/> names it in errors.</summary>
    /// <exception cref="SaeFormatException">The JSON is malformed or a field is missing or of the wrong kind.</exception>
    public static SaeConfig Parse(string json, string file)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                ?? throw new SaeFormatException(file, null, "is not a JSON object: cfg.json must be an object of config fields");
        }
        catch (JsonException e)
        {
            throw new SaeFormatException(file, null, $"is not valid JSON ({e.Message})", e);
        }
        if (IsPre6(root)) root = ConvertPre6(root, file);

        var metadata = root["metadata"] switch
        {
            null => new JsonObject(),
            JsonObject m => (JsonObject)m.DeepClone(),
            var other => throw new SaeFormatException(file, "metadata", $"must be a JSON object, got {Describe(other)}"),
        };
        string architecture = OptionalString(root, "architecture", file) ?? "standard";
        bool topk = architecture == "topk";
        bool transcoder = architecture.EndsWith("transcoder", StringComparison.Ordinal);
        var dtype = OptionalString(root, "dtype", file) ?? "float32";
        ParseDType(dtype, file, "dtype");
        var cfg = new SaeConfig
        {
            Architecture = architecture,
            DIn = RequiredPositiveInt(root, "d_in", file),
            DSae = RequiredPositiveInt(root, "d_sae", file),
            DOut = transcoder ? RequiredPositiveInt(root, "d_out", file) : null,
            DType = dtype,
            Device = OptionalString(root, "device", file) ?? "cpu",
            ApplyBDecToInput = OptionalBool(root, "apply_b_dec_to_input", file) ?? true,
            NormalizeActivations = ParseNormalization(root["normalize_activations"], file),
            ReshapeHookZ = ParseReshape(root["reshape_activations"], file),
            K = topk ? RequiredPositiveInt(root, "k", file) : null,
            RescaleActsByDecoderNorm = topk ? OptionalBool(root, "rescale_acts_by_decoder_norm", file) ?? false : null,
            Metadata = WithVersionsFirst(metadata),
        };
        if (transcoder && cfg.ApplyBDecToInput)
            throw new SaeFormatException(file, "apply_b_dec_to_input", "is true, but transcoders never subtract b_dec from their input: set it to false");
        return cfg;
    }

    /// <summary>The cfg.json text SAELens 6.x writes for <paramref name="cfg"/> (its field order, Python's json.dumps spacing).</summary>
    public static string Write(SaeConfig cfg)
    {
        var o = new JsonObject
        {
            ["d_in"] = cfg.DIn,
            ["d_sae"] = cfg.DSae,
            ["dtype"] = cfg.DType,
            ["device"] = cfg.Device,
            ["apply_b_dec_to_input"] = cfg.ApplyBDecToInput,
            ["normalize_activations"] = NormalizationName(cfg.NormalizeActivations),
            ["reshape_activations"] = cfg.ReshapeHookZ ? "hook_z" : "none",
            ["metadata"] = WithVersionsFirst((JsonObject)cfg.Metadata.DeepClone()),
        };
        if (cfg.K is { } k) o["k"] = k;
        if (cfg.RescaleActsByDecoderNorm is { } r) o["rescale_acts_by_decoder_norm"] = r;
        if (cfg.DOut is { } dOut) o["d_out"] = dOut;
        o["architecture"] = cfg.Architecture;
        var sb = new StringBuilder();
        WritePython(o, sb);
        return sb.ToString();
    }

    /// <summary>The element type a cfg dtype string names (<c>float32</c>, <c>torch.float16</c>, ...).</summary>
    /// <exception cref="SaeFormatException">The string is not one of float32, float64, float16, bfloat16 (with or without "torch.").</exception>
    public static DType ParseDType(string text, string file, string field) => (text.StartsWith("torch.", StringComparison.Ordinal) ? text[6..] : text) switch
    {
        "float32" or "float" => MechInterp.DType.Float32,
        "float64" or "double" => MechInterp.DType.Float64,
        "float16" or "half" => MechInterp.DType.Float16,
        "bfloat16" => MechInterp.DType.BFloat16,
        _ => throw new SaeFormatException(file, field, $"is \"{text}\": expected float32, float64, float16 or bfloat16 (optionally prefixed \"torch.\")"),
    };

    /// <summary>SAELens's name of a normalisation mode.</summary>
    public static string NormalizationName(ActivationNormalization mode) => mode switch
    {
        ActivationNormalization.None => "none",
        ActivationNormalization.ExpectedAverageOnlyIn => "expected_average_only_in",
        ActivationNormalization.ConstantNormRescale => "constant_norm_rescale",
        ActivationNormalization.LayerNorm => "layer_norm",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown normalisation mode"),
    };

    private static bool IsPre6(JsonObject root)
    {
        string? version = (root["sae_lens_version"] ?? (root["metadata"] as JsonObject)?["sae_lens_version"]) is JsonValue v
            && v.TryGetValue<string>(out var s) ? s : null;
        if (version is null) return true;
        var core = version.Split('-', '+')[0].Split('.');
        return !int.TryParse(core[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int major) || major < 6;
    }

    private static JsonObject ConvertPre6(JsonObject legacy, string file)
    {
        var src = (JsonObject)legacy.DeepClone();
        Rename(src, "hook_point", "hook_name");
        Rename(src, "hook_point_head_index", "hook_head_index");
        Rename(src, "activation_fn_str", "activation_fn");
        var result = new JsonObject();
        string architecture = OptionalString(src, "architecture", file) ?? "standard";
        if (OptionalString(src, "activation_fn", file) == "topk")
        {
            architecture = "topk";
            result["k"] = (src["activation_fn_kwargs"] as JsonObject)?["k"]?.DeepClone()
                ?? throw new SaeFormatException(file, "activation_fn_kwargs.k", "is missing: a pre-6.0 TopK cfg (activation_fn \"topk\") must give k there");
            result["rescale_acts_by_decoder_norm"] = false;
        }
        foreach (var key in new[] { "d_in", "d_sae", "dtype", "device" })
            if (src[key] is { } v) result[key] = v.DeepClone();
        result["apply_b_dec_to_input"] = src["apply_b_dec_to_input"]?.DeepClone() ?? true;
        result["normalize_activations"] = src["normalize_activations"] switch
        {
            null => "none",
            JsonValue b when b.TryGetValue<bool>(out bool flag) => flag ? "expected_average_only_in" : "none",
            var n => n.DeepClone(),
        };
        string hook = (src["hook_name"] as JsonValue)?.TryGetValue<string>(out var h) == true ? h : "";
        result["reshape_activations"] = src["reshape_activations"]?.DeepClone() ?? (hook.Contains("hook_z", StringComparison.Ordinal) ? "hook_z" : "none");
        var metadata = src["metadata"] as JsonObject is { } m ? (JsonObject)m.DeepClone() : new JsonObject();
        foreach (var key in s_legacyMetadataKeys)
            if (src.ContainsKey(key)) metadata[key] = src[key]?.DeepClone();
        result["metadata"] = metadata;
        result["architecture"] = architecture;
        if (src["d_out"] is { } dOut) result["d_out"] = dOut.DeepClone();
        return result;
    }

    private static void Rename(JsonObject o, string from, string to)
    {
        if (!o.ContainsKey(from)) return;
        var v = o[from]?.DeepClone();
        o.Remove(from);
        o[to] = v;
    }

    private static JsonObject WithVersionsFirst(JsonObject metadata)
    {
        var ordered = new JsonObject
        {
            ["sae_lens_version"] = metadata["sae_lens_version"]?.DeepClone() ?? FormatVersion,
            ["sae_lens_training_version"] = metadata["sae_lens_training_version"]?.DeepClone() ?? FormatVersion,
        };
        foreach (var (key, value) in metadata)
            if (key is not ("sae_lens_version" or "sae_lens_training_version")) ordered[key] = value?.DeepClone();
        return ordered;
    }

    private static int RequiredPositiveInt(JsonObject o, string field, string file)
    {
        var node = o[field];
        if (!o.ContainsKey(field)) throw new SaeFormatException(file, field, "is missing: every SAE cfg.json gives it as a positive integer");
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out double d)
            && d == Math.Floor(d) && d >= 1 && d <= int.MaxValue)
            return (int)d;
        throw new SaeFormatException(file, field, $"must be a positive integer, got {Describe(node)}");
    }

    private static string? OptionalString(JsonObject o, string field, string file) => o[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        var other => throw new SaeFormatException(file, field, $"must be a string, got {Describe(other)}"),
    };

    private static bool? OptionalBool(JsonObject o, string field, string file) => o[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        var other => throw new SaeFormatException(file, field, $"must be true or false, got {Describe(other)}"),
    };

    private static ActivationNormalization ParseNormalization(JsonNode? node, string file) => node switch
    {
        null => ActivationNormalization.None,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() switch
        {
            "none" => ActivationNormalization.None,
            "expected_average_only_in" => ActivationNormalization.ExpectedAverageOnlyIn,
            "constant_norm_rescale" => ActivationNormalization.ConstantNormRescale,
            "layer_norm" => ActivationNormalization.LayerNorm,
            var s => throw new SaeFormatException(file, "normalize_activations", $"is \"{s}\": expected none, expected_average_only_in, constant_norm_rescale or layer_norm"),
        },
        var other => throw new SaeFormatException(file, "normalize_activations", $"must be a string, got {Describe(other)}"),
    };

    private static bool ParseReshape(JsonNode? node, string file) => node switch
    {
        null => false,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() switch
        {
            "none" => false,
            "hook_z" => true,
            var s => throw new SaeFormatException(file, "reshape_activations", $"is \"{s}\": expected \"none\" or \"hook_z\""),
        },
        var other => throw new SaeFormatException(file, "reshape_activations", $"must be a string, got {Describe(other)}"),
    };

    private static string Describe(JsonNode? node) => node is null ? "null" : $"{node.GetValueKind().ToString().ToLowerInvariant()} {node.ToJsonString()}";

    // Python's json.dumps defaults: ", " and ": " separators, non-ASCII escaped as \uXXXX.
    private static void WritePython(JsonNode? node, StringBuilder sb)
    {
        switch (node)
        {
            case null: sb.Append("null"); break;
            case JsonObject o:
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in o)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    WriteString(k, sb);
                    sb.Append(": ");
                    WritePython(v, sb);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (int i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WritePython(a[i], sb);
                }
                sb.Append(']');
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String: WriteString(v.GetValue<string>(), sb); break;
            default: sb.Append(node.ToJsonString()); break;
        }
    }

    private static void WriteString(string s, StringBuilder sb)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
