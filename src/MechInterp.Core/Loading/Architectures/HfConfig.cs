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

    /// <summary>A required size: the first of <paramref name="keys"/> present, which must be a positive whole number.</summary>
    public int Int(params string[] keys)
    {
        int v = IntOr(null, keys) ?? throw Missing(keys);
        if (v <= 0)
            throw new InvalidDataException($"'{Path}': \"{keys.First(Has)}\" must be a positive size, got {v}: fix config.json (or re-download it)");
        return v;
    }

    /// <summary>The first of <paramref name="keys"/> present as a whole number, else <paramref name="fallback"/>; a present
    /// value of another type, or a number that is not a 32-bit integer, is an error naming the key.</summary>
    public int? IntOr(int? fallback, params string[] keys)
    {
        foreach (var k in keys)
        {
            if (!TryGet(k, out var v)) continue;
            if (v.ValueKind != JsonValueKind.Number)
                throw new InvalidDataException($"'{Path}': \"{k}\" must be a number, got {Describe(v)}: fix config.json (or re-download it)");
            if (!v.TryGetInt32(out int i))
                throw new InvalidDataException($"'{Path}': \"{k}\" must be a whole number below 2^31, got {v.GetRawText()}: fix config.json (or re-download it)");
            return i;
        }
        return fallback;
    }

    /// <summary>The first of <paramref name="keys"/> present as a finite number, else <paramref name="fallback"/>.</summary>
    public double Double(double fallback, params string[] keys)
    {
        foreach (var k in keys)
        {
            if (!TryGet(k, out var v)) continue;
            if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble()))
                throw new InvalidDataException($"'{Path}': \"{k}\" must be a finite number, got {Describe(v)}: fix config.json (or re-download it)");
            return v.GetDouble();
        }
        return fallback;
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{v.GetString()}\"",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
        _ => v.GetRawText(),
    };

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
