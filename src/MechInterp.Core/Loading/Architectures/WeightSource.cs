namespace MechInterp.Loading.Architectures;

/// <summary>Hugging Face tensors by name, tolerant of the optional model prefix ("transformer.", "model.", ...)
/// that differs between a bare model and its LM-head wrapper. Tensors come back as float32 on the managed CPU device:
/// copies, or when <paramref name="memoryMap"/> is set, views of the memory-mapped file where the stored dtype is
/// float32 (see <see cref="SafeTensorsFile.ReadMapped"/>).</summary>
internal sealed class WeightSource(CheckpointFiles files, string[] prefixes, bool memoryMap = false)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public string Directory => files.Directory;

    private string? Resolve(string name)
    {
        if (files.Contains(name)) return name;
        foreach (var p in prefixes)
        {
            if (name.StartsWith(p, StringComparison.Ordinal) && files.Contains(name[p.Length..])) return name[p.Length..];
            if (files.Contains(p + name)) return p + name;
        }
        return null;
    }

    public bool Has(string name) => Resolve(name) is not null;

    public Tensor Get(string name)
    {
        var resolved = Resolve(name) ?? throw new InvalidDataException(
            $"checkpoint '{files.Directory}' lacks tensor '{name}' (looked also with prefixes {string.Join(", ", prefixes.Select(p => $"'{p}'"))}): the weights do not match config.json's architecture");
        _used.Add(resolved);
        return memoryMap ? files.ReadMapped(resolved, DType.Float32) : files.Read(resolved, DType.Float32, Device.Cpu);
    }

    public Tensor? TryGet(string name) => Has(name) ? Get(name) : null;

    /// <summary>Names of tensors present but never read (buffers such as attn.bias masks are expected here).</summary>
    public IEnumerable<string> Unused => files.Names.Where(n => !_used.Contains(n));
}
