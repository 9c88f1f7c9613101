namespace MechInterp;

/// <summary>
/// Thrown by <see cref="TextTokenizer.FromPretrained(string)"/> when a directory holds none of the tokenizer files
/// it knows how to load.
/// </summary>
public sealed class TokenizerFilesNotFoundException : FileNotFoundException
{
    /// <summary>Creates the exception for <paramref name="directory"/>.</summary>
    /// <param name="directory">The directory that was searched.</param>
    /// <param name="lookedFor">The file names (or name combinations) that were looked for.</param>
    public TokenizerFilesNotFoundException(string directory, IReadOnlyList<string> lookedFor)
        : base(
            $"no tokenizer files in '{directory}': looked for {string.Join(", ", lookedFor)}. " +
            "Point FromPretrained at a Hugging Face model directory that includes its tokenizer files.")
    {
        Directory = directory;
        LookedFor = lookedFor;
    }

    /// <summary>The directory that was searched.</summary>
    public string Directory { get; }

    /// <summary>The file names (or name combinations) that were looked for.</summary>
    public IReadOnlyList<string> LookedFor { get; }
}
