namespace MechInterp;

/// <summary>
/// A safetensors file (or a checkpoint index that lists safetensors shards) is malformed: truncated, with a
/// header that is not valid safetensors JSON, or with tensor entries whose dtype, shape or byte range are
/// inconsistent. The message names the file, the tensor when there is one, and the problem.
/// </summary>
public sealed class SafeTensorsFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="filePath"/> (and <paramref name="tensorName"/> when the
    /// problem belongs to one tensor).</summary>
    /// <param name="filePath">The file that is malformed.</param>
    /// <param name="tensorName">The tensor entry at fault, or null when the problem is file-wide.</param>
    /// <param name="problem">What is wrong, in words.</param>
    /// <param name="inner">The underlying parser exception, if any.</param>
    public SafeTensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Format(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
        Problem = problem;
    }

    /// <summary>The file that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>The tensor entry at fault, or null when the problem is file-wide.</summary>
    public string? TensorName { get; }

    /// <summary>What is wrong, without the file and tensor names.</summary>
    public string Problem { get; }

    private static string Format(string filePath, string? tensorName, string problem)
    {
        var where = tensorName is null ? $"'{filePath}'" : $"'{filePath}', tensor '{Printable(tensorName)}'";
        return $"malformed safetensors file {where}: {problem}. The file is damaged or was not written by a " +
               "safetensors writer; download or export it again (Python: safetensors.torch.save_file).";
    }

    /// <summary>Names come from untrusted files: keep messages printable and bounded.</summary>
    internal static string Printable(string text)
    {
        const int max = 200;
        var sb = new System.Text.StringBuilder(Math.Min(text.Length, max) + 3);
        foreach (var c in text)
        {
            if (sb.Length >= max) { sb.Append("..."); break; }
            sb.Append(char.IsControl(c) ? '?' : c);
        }
        return sb.ToString();
    }
}
