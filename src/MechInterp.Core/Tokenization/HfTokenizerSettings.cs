using System.Text.Json;
using System.Text.Json.Nodes;

namespace MechInterp;

/// <summary>
/// The special-token settings of a Hugging Face tokenizer directory, read from
/// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>tokenizer.json</c>'s
/// <c>added_tokens</c> and <c>config.json</c>'s ids. Every file is optional.
/// </summary>
internal sealed class HfTokenizerSettings
{
    private readonly Dictionary<string, string> _tokenTexts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _configIds = new(StringComparer.Ordinal);

    /// <summary>Settings with no files at all.</summary>
    public static HfTokenizerSettings Empty { get; } = new();

    /// <summary>Added tokens (content → id) from <c>tokenizer.json</c> and <c>added_tokens_decoder</c>.</summary>
    public Dictionary<string, int> AddedTokens { get; } = new(StringComparer.Ordinal);

    /// <summary><c>add_bos_token</c> from <c>tokenizer_config.json</c>, when present.</summary>
    public bool? AddBosToken { get; private set; }

    /// <summary><c>do_lower_case</c> from <c>tokenizer_config.json</c>, when present.</summary>
    public bool? DoLowerCase { get; set; }

    /// <summary><c>strip_accents</c> from <c>tokenizer_config.json</c>, when present.</summary>
    public bool? StripAccents { get; private set; }

    /// <summary><c>tokenize_chinese_chars</c> from <c>tokenizer_config.json</c>, when present.</summary>
    public bool? TokenizeChineseChars { get; private set; }

    /// <summary><c>add_prefix_space</c> from <c>tokenizer_config.json</c>, when present.</summary>
    public bool? AddPrefixSpace { get; private set; }

    /// <summary>Reads the settings files present in <paramref name="directory"/>.</summary>
    public static HfTokenizerSettings Read(string directory)
    {
        var settings = new HfTokenizerSettings();
        var tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (File.Exists(tokenizerJson))
        {
            settings.ReadAddedTokens(LoadJson(tokenizerJson)["added_tokens"] as JsonArray);
        }

        // special_tokens_map.json first so tokenizer_config.json (which transformers writes last) wins.
        var map = Path.Combine(directory, "special_tokens_map.json");
        if (File.Exists(map))
        {
            settings.ReadTokenTexts(LoadJson(map));
        }

        var config = Path.Combine(directory, "tokenizer_config.json");
        if (File.Exists(config))
        {
            var json = LoadJson(config);
            settings.ReadTokenTexts(json);
            settings.ReadAddedTokensDecoder(json["added_tokens_decoder"] as JsonObject);
            settings.AddBosToken = Bool(json, "add_bos_token");
            settings.DoLowerCase = Bool(json, "do_lower_case");
            settings.StripAccents = Bool(json, "strip_accents");
            settings.TokenizeChineseChars = Bool(json, "tokenize_chinese_chars");
            settings.AddPrefixSpace = Bool(json, "add_prefix_space");
        }

        var modelConfig = Path.Combine(directory, "config.json");
        if (File.Exists(modelConfig))
        {
            var json = LoadJson(modelConfig);
            foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id" })
            {
                if (FirstInt(json[key]) is int id)
                {
                    settings._configIds[key[..^3]] = id;
                }
            }
        }

        return settings;
    }

    /// <summary>The texts of every configured special token (<c>bos_token</c>, <c>eos_token</c>, <c>unk_token</c>, ...).</summary>
    public IEnumerable<string> SpecialTokenTexts => _tokenTexts.Values;

    /// <summary>The text configured for a special token such as <c>"bos_token"</c>, or null.</summary>
    public string? TokenText(string name) => _tokenTexts.TryGetValue(name, out var text) ? text : null;

    /// <summary>
    /// Resolves a special token (<c>"bos_token"</c>, <c>"eos_token"</c>, ...): its configured text looked up with
    /// <paramref name="lookup"/> (added tokens first), else <c>config.json</c>'s <c>*_token_id</c>.
    /// </summary>
    public int? ResolveId(string name, Func<string, int?> lookup)
    {
        if (TokenText(name) is string text)
        {
            if (AddedTokens.TryGetValue(text, out var added))
            {
                return added;
            }

            if (lookup(text) is int id)
            {
                return id;
            }
        }

        return _configIds.TryGetValue(name, out var configured) ? configured : null;
    }

    /// <summary>
    /// BOS, EOS and PAD of a decoder-only model's tokenizer, with TransformerLens's fallbacks: PAD and BOS default
    /// to EOS when not configured; <c>AddsBos</c> is true when a BOS exists unless <c>add_bos_token</c> is false.
    /// </summary>
    public (int? Bos, int? Eos, int? Pad, bool AddsBos) DecoderSpecials(
        Func<string, int?> lookup, int? modelBos = null, int? modelEos = null, int? modelPad = null)
    {
        var eos = ResolveId("eos_token", lookup) ?? modelEos;
        var bos = ResolveId("bos_token", lookup) ?? modelBos ?? eos;
        var pad = ResolveId("pad_token", lookup) ?? modelPad ?? eos;
        return (bos, eos, pad, bos is not null && AddBosToken != false);
    }

    /// <summary>Parses a JSON file, naming the file when it is malformed.</summary>
    public static JsonObject LoadJson(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new InvalidDataException($"'{path}' does not hold a JSON object; re-download the tokenizer files.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON ({e.Message}); re-download the tokenizer files.", e);
        }
    }

    private void ReadTokenTexts(JsonObject json)
    {
        foreach (var (key, value) in json)
        {
            if (key.EndsWith("_token", StringComparison.Ordinal) && TokenContent(value) is string text)
            {
                _tokenTexts[key] = text;
            }
        }
    }

    private void ReadAddedTokens(JsonArray? tokens)
    {
        foreach (var token in tokens ?? [])
        {
            if (token?["content"]?.GetValue<string>() is string content && FirstInt(token["id"]) is int id)
            {
                AddedTokens[content] = id;
            }
        }
    }

    private void ReadAddedTokensDecoder(JsonObject? decoder)
    {
        foreach (var (key, value) in decoder ?? [])
        {
            if (int.TryParse(key, out var id) && value?["content"]?.GetValue<string>() is string content)
            {
                AddedTokens.TryAdd(content, id);
            }
        }
    }

    private static string? TokenContent(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };

    private static bool? Bool(JsonObject json, string key) =>
        json[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b : null;

    private static int? FirstInt(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<int>(out var i) => i,
        JsonArray { Count: > 0 } a => FirstInt(a[0]),
        _ => null,
    };
}
