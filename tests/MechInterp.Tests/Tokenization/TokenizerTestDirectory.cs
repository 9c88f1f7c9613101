using System.Text;

namespace MechInterp.Tests.Tokenization;

/// <summary>A temporary directory of tokenizer files, deleted on dispose.</summary>
internal sealed class TokenizerTestDirectory : IDisposable
{
    public TokenizerTestDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mechinterp-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string name, string content)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, content, new UTF8Encoding(false));
        return file;
    }

    public string Write(string name, byte[] content)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllBytes(file, content);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }
}
