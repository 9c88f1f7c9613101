using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MechInterp;

/// <summary>
/// A byte-level BPE model read from Hugging Face files: vocabulary, merges (as <c>"a b"</c> lines),
/// split patterns, normalizer steps, added tokens and the ByteLevel <c>add_prefix_space</c> flag.
/// </summary>
internal sealed class BpeModelFiles
{
    /// <summary>Token text (byte-level alphabet) → id.</summary>
    public required Dictionary<string, int> Vocabulary { get; init; }

    /// <summary>Merges in priority order, each as <c>"left right"</c>.</summary>
    public required List<string> Merges { get; init; }

    /// <summary>Pre-tokenization patterns, applied in order.</summary>
    public required List<Regex> Patterns { get; init; }

    /// <summary>Normalizer step names (see <see cref="UnicodeNormalizer"/>).</summary>
    public List<string> NormalizerSteps { get; init; } = [];

    /// <summary>Added tokens (content → id), matched whole in the input.</summary>
    public Dictionary<string, int> AddedTokens { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Whether a space is prepended to input that does not start with one.</summary>
    public bool AddPrefixSpace { get; init; }

    /// <summary>The model's unknown token, if any.</summary>
    public string? UnknownToken { get; init; }

    /// <summary>Reads <c>vocab.json</c> and <c>merges.txt</c> (GPT-2, GPT-NeoX, Qwen2 style).</summary>
    public static BpeModelFiles FromVocabAndMerges(string vocabPath, string mergesPath, HfTokenizerSettings settings)
    {
        Dictionary<string, int> vocabulary;
        try
        {
            using var stream = File.OpenRead(vocabPath);
            vocabulary = JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                ?? throw new InvalidDataException($"'{vocabPath}' holds JSON null, not a vocabulary; re-download the tokenizer files.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"'{vocabPath}' is not a JSON object of token → id ({e.Message}); re-download the tokenizer files.", e);
        }

        var merges = new List<string>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(mergesPath))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
            {
                continue;
            }

            if (line.Split(' ').Length != 2)
            {
                throw new InvalidDataException(
                    $"'{mergesPath}' line {lineNumber} is not a merge of the form \"left right\": \"{line}\"; " +
                    "re-download the tokenizer files.");
            }

            merges.Add(line);
        }

        // Configured special tokens (e.g. GPT-2's <|endoftext|>) are never split, as in transformers.
        var added = new Dictionary<string, int>(settings.AddedTokens, StringComparer.Ordinal);
        foreach (var special in settings.SpecialTokenTexts)
        {
            if (vocabulary.TryGetValue(special, out var id))
            {
                added.TryAdd(special, id);
            }
        }

        return new BpeModelFiles
        {
            Vocabulary = vocabulary,
            Merges = merges,
            Patterns = [new Regex(SplitPreTokenizer.Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant)],
            AddedTokens = added,
            AddPrefixSpace = settings.AddPrefixSpace ?? false,
        };
    }

    /// <summary>Reads a Hugging Face <c>tokenizer.json</c> whose model is a byte-level BPE.</summary>
    public static BpeModelFiles FromTokenizerJson(string path, JsonObject json)
    {
        var model = json["model"] as JsonObject
            ?? throw new InvalidDataException($"'{path}' has no \"model\" object; re-download the tokenizer files.");
        var patterns = new List<Regex>();
        var byteLevel = false;
        var addPrefixSpace = false;
        ReadPreTokenizer(path, json["pre_tokenizer"], patterns, ref byteLevel, ref addPrefixSpace);
        byteLevel |= (json["decoder"]?["type"]?.GetValue<string>() == "ByteLevel");
        if (!byteLevel)
        {
            throw new NotSupportedException(
                $"'{path}' holds a BPE model that is not byte-level (no ByteLevel pre-tokenizer or decoder), " +
                "as SentencePiece-converted tokenizers are: load the directory's tokenizer.model instead.");
        }

        var normalizerSteps = new List<string>();
        ReadNormalizer(path, json["normalizer"], normalizerSteps);
        var added = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var token in json["added_tokens"] as JsonArray ?? [])
        {
            if (token?["content"]?.GetValue<string>() is string content && token["id"] is JsonNode id)
            {
                added[content] = id.GetValue<int>();
            }
        }

        return new BpeModelFiles
        {
            Vocabulary = ReadVocabulary(model["vocab"] as JsonObject, path),
            Merges = ReadMerges(path, model["merges"] as JsonArray),
            Patterns = patterns,
            NormalizerSteps = normalizerSteps,
            AddedTokens = added,
            AddPrefixSpace = addPrefixSpace,
            UnknownToken = model["unk_token"]?.GetValue<string>(),
        };
    }

    private static Dictionary<string, int> ReadVocabulary(JsonObject? vocab, string path)
    {
        if (vocab is null)
        {
            throw new InvalidDataException($"'{path}' has no vocabulary object; re-download the tokenizer files.");
        }

        try
        {
            return vocab.Deserialize<Dictionary<string, int>>()!;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"'{path}': the vocabulary is not an object of token → id ({e.Message}); re-download the tokenizer files.", e);
        }
    }

    private static List<string> ReadMerges(string path, JsonArray? merges)
    {
        var result = new List<string>(merges?.Count ?? 0);
        foreach (var merge in merges ?? [])
        {
            string left, right;
            if (merge is JsonArray { Count: 2 } pair)
            {
                left = pair[0]!.GetValue<string>();
                right = pair[1]!.GetValue<string>();
            }
            else if (merge?.GetValue<string>().Split(' ') is [var l, var r])
            {
                (left, right) = (l, r);
            }
            else
            {
                throw new InvalidDataException(
                    $"'{path}': merge {merge?.ToJsonString()} is neither \"left right\" nor [left, right]; " +
                    "re-download the tokenizer files.");
            }

            if (left.Contains(' ') || right.Contains(' '))
            {
                throw new NotSupportedException(
                    $"'{path}': merge [\"{left}\", \"{right}\"] has a token containing a space, which byte-level BPE " +
                    "never produces; this tokenizer is not byte-level BPE and is not supported.");
            }

            result.Add(left + " " + right);
        }

        return result;
    }

    private static void ReadPreTokenizer(
        string path, JsonNode? node, List<Regex> patterns, ref bool byteLevel, ref bool addPrefixSpace)
    {
        if (node is null)
        {
            return;
        }

        var type = node["type"]?.GetValue<string>();
        switch (type)
        {
            case "Sequence":
                foreach (var inner in node["pretokenizers"] as JsonArray ?? [])
                {
                    ReadPreTokenizer(path, inner, patterns, ref byteLevel, ref addPrefixSpace);
                }

                break;
            case "ByteLevel":
                byteLevel = true;
                addPrefixSpace |= node["add_prefix_space"]?.GetValue<bool>() ?? false;
                if (node["use_regex"]?.GetValue<bool>() ?? true)
                {
                    patterns.Add(new Regex(SplitPreTokenizer.Gpt2Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant));
                }

                break;
            case "Split":
                var behavior = node["behavior"]?.GetValue<string>() ?? "Isolated";
                if (behavior != "Isolated" || (node["invert"]?.GetValue<bool>() ?? false))
                {
                    throw new NotSupportedException(
                        $"'{path}': Split pre-tokenizer with behavior '{behavior}' (invert: {node["invert"]}) is not " +
                        "supported; only behavior \"Isolated\" without invert is.");
                }

                var pattern = node["pattern"]?["Regex"]?.GetValue<string>()
                    ?? Regex.Escape(node["pattern"]?["String"]?.GetValue<string>()
                        ?? throw new InvalidDataException($"'{path}': Split pre-tokenizer has no pattern."));
                patterns.Add(new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant));
                break;
            default:
                throw new NotSupportedException(
                    $"'{path}': pre-tokenizer type '{type}' is not supported for byte-level BPE; " +
                    "supported: ByteLevel, Split (Isolated) and Sequence of them.");
        }
    }

    private static void ReadNormalizer(string path, JsonNode? node, List<string> steps)
    {
        if (node is null)
        {
            return;
        }

        var type = node["type"]?.GetValue<string>() ?? "";
        if (type == "Sequence")
        {
            foreach (var inner in node["normalizers"] as JsonArray ?? [])
            {
                ReadNormalizer(path, inner, steps);
            }
        }
        else if (UnicodeNormalizer.SupportedSteps.Contains(type))
        {
            steps.Add(type);
        }
        else
        {
            throw new NotSupportedException(
                $"'{path}': normalizer type '{type}' is not supported for byte-level BPE; " +
                $"supported: {string.Join(", ", UnicodeNormalizer.SupportedSteps)} and Sequence of them.");
        }
    }
}
