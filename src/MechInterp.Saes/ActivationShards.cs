namespace MechInterp.Saes;

/// <summary>
/// Activation batches on disk for reuse across training runs: one safetensors file per batch
/// (<c>shard_00000.safetensors</c>, ...), one tensor per hook name [rows, width], in the order they were made. Until the
/// scale issue's harvest format lands this is the store's own format.
/// </summary>
public static class ActivationShards
{
    private const string Prefix = "shard_";

    /// <summary>Writes every batch of <paramref name="store"/> (or the first <paramref name="maxBatches"/>) to
    /// <paramref name="folder"/>; returns the number written.</summary>
    public static int Write(ActivationStore store, string folder, int? maxBatches = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        int n = 0;
        foreach (var batch in store.Batches())
        {
            if (maxBatches is { } max && n >= max) break;
            using (Tensor.Scope())
                SafeTensorsWriter.Write(Path.Combine(folder, $"{Prefix}{n:D5}.safetensors"), batch.ToDictionary(kv => kv.Key, kv => kv.Value.To(Device.Cpu)));
            foreach (var t in batch.Values) t.Dispose();
            n++;
        }
        return n;
    }

    /// <summary>The batches in <paramref name="folder"/>, in order, on <paramref name="device"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="SaeFormatException">A shard lacks a hook another shard has, or the folder has no shards.</exception>
    public static IEnumerable<IReadOnlyDictionary<string, Tensor>> Read(string folder, Device? device = null)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"activation shard folder '{folder}' does not exist");
        var files = Directory.GetFiles(folder, Prefix + "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new SaeFormatException(folder, null, $"holds no {Prefix}NNNNN.safetensors files: write them with ActivationShards.Write");
        return ReadFiles(files, device ?? Device.Cpu);
    }

    private static IEnumerable<IReadOnlyDictionary<string, Tensor>> ReadFiles(string[] files, Device device)
    {
        string[]? names = null;
        foreach (var path in files)
        {
            using var file = SafeTensorsFile.Open(path);
            names ??= file.Names.ToArray();
            if (!file.Names.Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal)))
                throw new SaeFormatException(path, null, $"holds hooks [{string.Join(", ", file.Names)}] but the first shard holds [{string.Join(", ", names)}]");
            yield return names.ToDictionary(n => n, n => file.Read(n, null, device).DetachFromScopes(), StringComparer.Ordinal);
        }
    }
}
