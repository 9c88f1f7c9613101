using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace MechInterp.Tests.Loading;

/// <summary>Helpers for the loading tests: fixture paths, temp directories, and an independent (test-only)
/// safetensors header reader and byte builder that share no code with the library.</summary>
internal static class LoadingTestSupport
{
    public static readonly string[] FixtureNames =
        ["bert-tiny", "gemma-tiny", "gemma2-tiny", "gpt2-tiny", "gptj-tiny", "llama-tiny", "mistral-tiny", "neo-tiny", "opt-tiny", "phi-tiny", "pythia-tiny"];

    public static string Fixture(string model, string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", model, file);

    /// <summary>One tensor entry as parsed by System.Text.Json straight from the file bytes.</summary>
    public sealed record RawEntry(string DType, long[] Shape, long Begin, long End);

    /// <summary>Parses the header of <paramref name="bytes"/> independently: (header length, metadata, entries).</summary>
    public static (long HeaderLength, Dictionary<string, string> Metadata, Dictionary<string, RawEntry> Entries) ParseIndependently(byte[] bytes)
    {
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var meta = new Dictionary<string, string>();
        var entries = new Dictionary<string, RawEntry>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                foreach (var m in p.Value.EnumerateObject()) meta[m.Name] = m.Value.GetString()!;
                continue;
            }
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            entries[p.Name] = new RawEntry(p.Value.GetProperty("dtype").GetString()!,
                p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), offsets[0], offsets[1]);
        }
        return (n, meta, entries);
    }

    /// <summary>The data bytes of <paramref name="name"/> located by the independent parse.</summary>
    public static byte[] RawData(byte[] file, string name)
    {
        var (n, _, entries) = ParseIndependently(file);
        var e = entries[name];
        return file.AsSpan((int)(8 + n + e.Begin), (int)(e.End - e.Begin)).ToArray();
    }

    /// <summary>Builds file bytes from a header JSON text and a data section (no padding added).</summary>
    public static byte[] Build(string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }
}

/// <summary>A fresh temporary directory, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mechinterp-loading-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        var p = File(name);
        System.IO.File.WriteAllBytes(p, bytes);
        return p;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
