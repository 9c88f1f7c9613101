namespace MechInterp;

/// <summary>
/// A model id (for example <c>"gpt2"</c> or <c>"EleutherAI/pythia-70m"</c>) was not found in any local
/// Hugging Face hub cache. The message lists every directory searched and how to download the model.
/// </summary>
public sealed class ModelNotFoundException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="modelId">The model id that was asked for.</param>
    /// <param name="revision">The revision (branch, tag or commit) that was asked for.</param>
    /// <param name="searchedDirectories">Every directory that was looked in, in order.</param>
    public ModelNotFoundException(string modelId, string revision, IReadOnlyList<string> searchedDirectories)
        : base(BuildMessage(modelId, revision, searchedDirectories))
    {
        ModelId = modelId;
        Revision = revision;
        SearchedDirectories = searchedDirectories;
    }

    /// <summary>The model id that was asked for.</summary>
    public string ModelId { get; }

    /// <summary>The revision that was asked for.</summary>
    public string Revision { get; }

    /// <summary>Every directory that was looked in, in search order.</summary>
    public IReadOnlyList<string> SearchedDirectories { get; }

    private static string BuildMessage(string modelId, string revision, IReadOnlyList<string> searched)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append($"model '{modelId}' (revision '{revision}') is not in the local Hugging Face cache. Looked in:");
        if (searched.Count == 0) sb.Append("\n  (no cache directory is configured: HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME and HOME are all unset)");
        foreach (var d in searched) sb.Append("\n  ").Append(d);
        var revArg = revision == "main" ? "" : $" --revision {revision}";
        sb.Append($"\nDownload it into that cache with `huggingface-cli download {modelId}{revArg}` ")
          .Append("(pip install -U huggingface_hub; or any Python tool that uses huggingface_hub), ")
          .Append("set HF_HUB_CACHE or HF_HOME if your cache lives elsewhere, ")
          .Append("or pass the path of a local model directory instead of a model id.");
        return sb.ToString();
    }
}
