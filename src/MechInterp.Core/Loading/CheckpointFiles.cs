using System.Text.Json;

namespace MechInterp;

/// <summary>
/// The weight files of a Hugging Face model directory behind one lookup: a single <c>model.safetensors</c>, or
/// <c>model.safetensors.index.json</c> with its shards (<c>model-00001-of-00003.safetensors</c>, ...). Pickle
/// checkpoints (<c>pytorch_model.bin</c>, <c>*.pt</c>, <c>*.pth</c>, <c>*.ckpt</c>) are refused with
/// <see cref="UnsafeCheckpointFormatException"/>. Disposing unmaps every shard.
/// </summary>
public sealed class CheckpointFiles : IDisposable
{
    /// <summary>The single-file checkpoint name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>The index file of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private static readonly string[] PickleExtensions = [".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"];

    private readonly SafeTensorsFile[] _files;
    private readonly Dictionary<string, SafeTensorsFile> _byName;
    private readonly string[] _names;

    private CheckpointFiles(string directory, SafeTensorsFile[] files, Dictionary<string, SafeTensorsFile> byName, string? indexPath)
    {
        Directory = directory;
        _files = files;
        _byName = byName;
        _names = byName.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
        IndexPath = indexPath;
    }

    /// <summary>Opens the checkpoint in <paramref name="path"/>: a model directory, or a single .safetensors file.
    /// Throws <see cref="UnsafeCheckpointFormatException"/> for pickle checkpoints,
    /// <see cref="FileNotFoundException"/> naming a missing shard or when the directory holds no weights, and
    /// <see cref="SafeTensorsFormatException"/> for malformed files or index.</summary>
    /// <param name="path">A model directory or a .safetensors file.</param>
    public static CheckpointFiles Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (File.Exists(path))
        {
            if (IsPickleFile(path)) throw new UnsafeCheckpointFormatException(path);
            if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                return OpenIndex(Path.GetDirectoryName(Path.GetFullPath(path))!, path);
            return OpenSingle(Path.GetDirectoryName(Path.GetFullPath(path))!, path);
        }
        if (!System.IO.Directory.Exists(path))
            throw new DirectoryNotFoundException($"model directory '{path}' does not exist; pass a directory holding {SingleFileName} or {IndexFileName}");

        var single = Path.Combine(path, SingleFileName);
        if (File.Exists(single)) return OpenSingle(path, single);
        var index = Path.Combine(path, IndexFileName);
        if (File.Exists(index)) return OpenIndex(path, index);

        var pickle = System.IO.Directory.EnumerateFiles(path).Where(IsPickleFile).OrderBy(p => p, StringComparer.Ordinal).FirstOrDefault();
        if (pickle is not null) throw new UnsafeCheckpointFormatException(pickle);
        var others = System.IO.Directory.EnumerateFiles(path, "*.safetensors").Select(Path.GetFileName).Take(5).ToArray();
        var hint = others.Length > 0 ? $" It has {string.Join(", ", others)}: pass one of those files to CheckpointFiles.Open directly." : "";
        throw new FileNotFoundException($"model directory '{path}' has neither {SingleFileName} nor {IndexFileName}.{hint}", single);
    }

    /// <summary>True for file names of pickle-based PyTorch checkpoints, which are never loaded.</summary>
    public static bool IsPickleFile(string path) =>
        PickleExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>The model directory.</summary>
    public string Directory { get; }

    /// <summary>The index file of a sharded checkpoint, or null for a single file.</summary>
    public string? IndexPath { get; }

    /// <summary>The open safetensors files (one, or every shard in index order).</summary>
    public IReadOnlyList<SafeTensorsFile> Files => _files;

    /// <summary>Every tensor name over all shards, in ordinal order.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>True when some shard holds <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The file that holds <paramref name="name"/>; throws <see cref="KeyNotFoundException"/> naming the checkpoint when absent.</summary>
    public SafeTensorsFile FileOf(string name)
    {
        if (_byName.TryGetValue(name, out var file)) return file;
        throw new KeyNotFoundException($"tensor '{name}' is in no file of the checkpoint in '{Directory}' ({_names.Length} tensors over {_files.Length} file(s))");
    }

    /// <summary>The entry (dtype, shape, byte range) of <paramref name="name"/>.</summary>
    public SafeTensorInfo GetInfo(string name) => FileOf(name).GetInfo(name);

    /// <summary>Materialises <paramref name="name"/> (see <see cref="SafeTensorsFile.Read"/>).</summary>
    public Tensor Read(string name, DType? dtype = null, Device? device = null) => FileOf(name).Read(name, dtype, device);

    /// <summary>Tensor <paramref name="name"/> sharing the file's pages when it can (see <see cref="SafeTensorsFile.ReadMapped"/>).</summary>
    public Tensor ReadMapped(string name, DType? dtype = null) => FileOf(name).ReadMapped(name, dtype);

    /// <summary>Converts <paramref name="name"/> to float32 into <paramref name="destination"/> (see <see cref="SafeTensorsFile.ReadFloats"/>).</summary>
    public void ReadFloats(string name, Span<float> destination) => FileOf(name).ReadFloats(name, destination);

    /// <summary>Unmaps every file.</summary>
    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }

    private static CheckpointFiles OpenSingle(string directory, string file)
    {
        var st = SafeTensorsFile.Open(file);
        return new CheckpointFiles(directory, [st], st.Names.ToDictionary(n => n, _ => st, StringComparer.Ordinal), null);
    }

    private static CheckpointFiles OpenIndex(string directory, string indexPath)
    {
        var weightMap = ReadWeightMap(indexPath);
        var opened = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            var byName = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                if (!opened.TryGetValue(shard, out var file))
                {
                    var shardPath = Path.Combine(directory, shard);
                    if (!File.Exists(shardPath))
                        throw new FileNotFoundException(
                            $"shard '{shard}' listed in '{indexPath}' (for tensor '{tensor}' and others) is missing from '{directory}'; " +
                            "the download is incomplete: download the model again (huggingface-cli download resumes)", shardPath);
                    file = SafeTensorsFile.Open(shardPath);
                    opened.Add(shard, file);
                }
                if (!file.Contains(tensor))
                    throw new SafeTensorsFormatException(indexPath, tensor, $"the index places the tensor in '{shard}', which does not hold it");
                byName.Add(tensor, file);
            }
            return new CheckpointFiles(directory, opened.Values.ToArray(), byName, indexPath);
        }
        catch
        {
            foreach (var f in opened.Values) f.Dispose();
            throw;
        }
    }

    /// <summary>Parses the <c>weight_map</c> of an index file: tensor name → shard file name (validated to be a
    /// plain file name in the same directory).</summary>
    internal static List<(string Tensor, string Shard)> ReadWeightMap(string indexPath)
    {
        var info = new FileInfo(indexPath);
        if (info.Length > SafeTensorsFile.MaxHeaderBytes)
            throw new SafeTensorsFormatException(indexPath, null, $"the index file is {info.Length} bytes, more than the {SafeTensorsFile.MaxHeaderBytes}-byte limit");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(indexPath, null, $"the index is not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsFormatException(indexPath, null, "the index has no 'weight_map' object {tensor name: shard file}");
            var result = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (!seen.Add(entry.Name))
                    throw new SafeTensorsFormatException(indexPath, entry.Name, "the weight_map lists the tensor twice");
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new SafeTensorsFormatException(indexPath, entry.Name, $"the weight_map value must be a shard file name, found {entry.Value.ValueKind}");
                var shard = entry.Value.GetString()!;
                if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or ".." || shard.Contains('/') || shard.Contains('\\'))
                    throw new SafeTensorsFormatException(indexPath, entry.Name, $"shard '{SafeTensorsFormatException.Printable(shard)}' is not a plain file name in the model directory");
                if (IsPickleFile(shard)) throw new UnsafeCheckpointFormatException(Path.Combine(Path.GetDirectoryName(indexPath) ?? ".", shard));
                result.Add((entry.Name, shard));
            }
            return result;
        }
    }
}
