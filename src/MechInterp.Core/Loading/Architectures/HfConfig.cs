using System.Text.Json;

namespace MechInterp.Loading.Architectures;

/// <summary>Typed access to a Hugging Face config.json, with alternative key names and clear errors.</summary>
internal sealed class HfConfig
{
    private readonly JsonElement _root;

    public HfConfig(JsonElement root, string path)
    {
        _root = root;
        Path = path;
    }

    public string Path { get; }

    public static HfConfig Load(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return new HfConfig(doc.RootElement.Clone(), path);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON ({e.Message}): re-download the model's config.json", e);
        }
    }

    public string Architecture
    {
        get
        {
            if (_root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0)
                return a[0].GetString() ?? "";
            throw new InvalidDataException($"'{Path}' has no \"architectures\" entry: cannot tell which model class it describes");
        }
    }

    private bool TryGet(string key, out JsonElement value)
    {
        if (_root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null) return true;
        value = default;
        return false;
    }

    public bool Has(string key) => TryGet(key, out _);

    public int Int(params string[] keys) => IntOr(null, keys) ?? throw Missing(keys);

    public int? IntOr(int? fallback, params string[] keys)
    {
        foreach (var k in keys)
            if (TryGet(k, out var v) && v.ValueKind == JsonValueKind.Number) return v.GetInt32();
        return fallback;
    }

    public double Double(double fallback, params string[] keys)
    {
        foreach (var k in keys)
            if (TryGet(k, out var v) && v.ValueKind == JsonValueKind.Number) return v.GetDouble();
        return fallback;
    }

    public string? String(params string[] keys)
    {
        foreach (var k in keys)
            if (TryGet(k, out var v) && v.ValueKind == JsonValueKind.String) return v.GetString();
        return null;
    }

    public bool Bool(bool fallback, string key) =>
        TryGet(key, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    public JsonElement? Element(string key) => TryGet(key, out var v) ? v : null;

    /// <summary>Refuses a config switch this library does not implement (never ignored silently).</summary>
    public void RejectIfSet(string key, string why)
    {
        if (TryGet(key, out var v) && !(v.ValueKind == JsonValueKind.False))
            throw new NotSupportedException($"'{Path}' sets \"{key}\" = {v.GetRawText()}, which MechInterp does not implement ({why}); loading it would give wrong results");
    }

    private InvalidDataException Missing(string[] keys) =>
        new($"'{Path}' lacks {string.Join(" / ", keys.Select(k => $"\"{k}\""))}: the config is incomplete");
}
