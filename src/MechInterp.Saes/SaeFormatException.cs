namespace MechInterp.Saes;

/// <summary>
/// A SAELens folder (<c>cfg.json</c> + <c>sae_weights.safetensors</c>) that cannot be read: the message names the file,
/// the field or tensor, what was found and what was expected.
/// </summary>
public sealed class SaeFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="file"/>; <paramref name="item"/> is the cfg field or tensor at fault.</summary>
    public SaeFormatException(string file, string? item, string problem, Exception? inner = null)
        : base(item is null ? $"{file}: {problem}" : $"{file}: '{item}' {problem}", inner)
    {
        File = file;
        Item = item;
        Problem = problem;
    }

    /// <summary>The file at fault (cfg.json or sae_weights.safetensors, with its folder).</summary>
    public string File { get; }

    /// <summary>The cfg.json field or the tensor at fault, or null when the whole file is.</summary>
    public string? Item { get; }

    /// <summary>What is wrong and what was expected.</summary>
    public string Problem { get; }
}
