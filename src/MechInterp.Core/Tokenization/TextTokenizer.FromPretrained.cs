namespace MechInterp;

public abstract partial class TextTokenizer
{
    private static readonly string[] LookedFor =
    [
        "tokenizer.json (model.type BPE with ByteLevel, or WordPiece)",
        "tokenizer.model (SentencePiece)",
        "vocab.json + merges.txt (byte-level BPE)",
        "vocab.txt (WordPiece)",
    ];

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model directory, choosing from the files present:
    /// a byte-level BPE <c>tokenizer.json</c>; else <c>tokenizer.model</c> (SentencePiece); else
    /// <c>vocab.json</c> + <c>merges.txt</c> (byte-level BPE); else <c>vocab.txt</c> (WordPiece; also used when
    /// <c>tokenizer.json</c> holds a WordPiece model). Special tokens come from the directory's
    /// <c>tokenizer_config.json</c>, <c>special_tokens_map.json</c>, <c>tokenizer.json</c> and <c>config.json</c>.
    /// </summary>
    /// <param name="directory">The model directory.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="TokenizerFilesNotFoundException">The directory has none of the files above.</exception>
    /// <exception cref="NotSupportedException">The only tokenizer file describes a kind this library cannot run.</exception>
    public static TextTokenizer FromPretrained(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException(
                $"tokenizer directory '{directory}' does not exist; pass the folder that holds the model's tokenizer files.");
        }

        string In(string name) => Path.Combine(directory, name);
        var tokenizerJson = In("tokenizer.json");
        var sentencePiece = In("tokenizer.model");
        var vocabJson = In("vocab.json");
        var merges = In("merges.txt");
        var vocabTxt = In("vocab.txt");

        string? jsonModelType = null;
        if (File.Exists(tokenizerJson))
        {
            var json = HfTokenizerSettings.LoadJson(tokenizerJson);
            jsonModelType = json["model"]?["type"]?.GetValue<string>() ?? (json["model"]?["merges"] is null ? null : "BPE");
            if (jsonModelType == "BPE" && IsByteLevel(json))
            {
                return ByteLevelBpeTextTokenizer.FromTokenizerJson(tokenizerJson);
            }
        }

        if (File.Exists(sentencePiece))
        {
            return SentencePieceTextTokenizer.FromModelFile(sentencePiece);
        }

        if (File.Exists(vocabJson) && File.Exists(merges))
        {
            return ByteLevelBpeTextTokenizer.FromVocabAndMerges(vocabJson, merges);
        }

        if (File.Exists(vocabTxt))
        {
            return WordPieceTextTokenizer.FromVocabFile(vocabTxt);
        }

        if (jsonModelType == "WordPiece")
        {
            return WordPieceTextTokenizer.FromTokenizerJson(tokenizerJson);
        }

        if (jsonModelType is not null)
        {
            throw new NotSupportedException(
                $"'{tokenizerJson}' holds a {jsonModelType} model that is not byte-level BPE or WordPiece, and the directory " +
                "has no tokenizer.model: add the checkpoint's SentencePiece tokenizer.model to the directory.");
        }

        throw new TokenizerFilesNotFoundException(directory, LookedFor);
    }

    private static bool IsByteLevel(System.Text.Json.Nodes.JsonObject json)
    {
        var text = (json["pre_tokenizer"]?.ToJsonString() ?? "") + (json["decoder"]?.ToJsonString() ?? "");
        return text.Contains("\"ByteLevel\"", StringComparison.Ordinal);
    }
}
