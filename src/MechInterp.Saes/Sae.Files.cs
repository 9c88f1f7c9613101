namespace MechInterp.Saes;

public abstract partial class Sae
{
    /// <summary>The config file of a SAELens folder.</summary>
    public const string ConfigFileName = "cfg.json";

    /// <summary>The weights file of a SAELens folder.</summary>
    public const string WeightsFileName = "sae_weights.safetensors";

    /// <summary>
    /// Loads a SAELens folder (cfg.json + sae_weights.safetensors; 6.x or pre-6.0 cfg layout; float32, float64, float16
    /// or bfloat16 weights) onto <paramref name="device"/> (managed CPU by default).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">cfg.json or sae_weights.safetensors is missing.</exception>
    /// <exception cref="SaeFormatException">A cfg field or a tensor is missing, malformed or of the wrong shape or dtype.</exception>
    public static Sae Load(string folder, Device? device = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"SAE folder '{folder}' does not exist: pass a folder holding {ConfigFileName} and {WeightsFileName}");
        string cfgPath = Path.Combine(folder, ConfigFileName), weightsPath = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(cfgPath)) throw new FileNotFoundException($"'{folder}' has no {ConfigFileName}: a SAELens folder holds {ConfigFileName} and {WeightsFileName}", cfgPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"'{folder}' has no {WeightsFileName}: a SAELens folder holds {ConfigFileName} and {WeightsFileName}", weightsPath);
        var cfg = SaeConfigJson.Parse(File.ReadAllText(cfgPath), cfgPath);
        var architecture = SaeRegistry.TryGet(cfg.Architecture)
            ?? throw new SaeFormatException(cfgPath, "architecture", $"is \"{cfg.Architecture}\", which is not a registered SAE architecture (known: {string.Join(", ", SaeRegistry.Names.Order())})");
        var weights = ReadWeights(weightsPath, cfg, architecture, device ?? MechInterp.Device.Cpu);
        return architecture.Create(cfg, weights);
    }

    /// <summary>Writes cfg.json and sae_weights.safetensors as SAELens 6.x's <c>save_model</c> does (same keys, shapes and
    /// dtypes; weights in cfg.json's dtype; no safetensors metadata). Creates the folder if needed.</summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        var storage = Config.StorageDType;
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in WeightsForSaving()) tensors[name] = tensor.To(MechInterp.Device.Cpu).To(storage).Contiguous();
        SafeTensorsWriter.Write(Path.Combine(folder, WeightsFileName), tensors);
        File.WriteAllText(Path.Combine(folder, ConfigFileName), SaeConfigJson.Write(ConfigForSaving()));
    }

    /// <summary>The tensors <see cref="Save"/> writes (the inference weights by default).</summary>
    protected virtual IEnumerable<(string Name, Tensor Value)> WeightsForSaving() => _weights.Select(kv => (kv.Key, kv.Value.Value));

    /// <summary>The config <see cref="Save"/> writes.</summary>
    protected virtual SaeConfig ConfigForSaving() => Config;

    /// <summary>Moves the weights to <paramref name="device"/> (in place); returns this SAE.</summary>
    public Sae To(Device device)
    {
        MoveParameters(device);
        return this;
    }

    /// <summary>Casts the weights (in place) to a compute dtype; float16/bfloat16 need a Torch device. cfg.json's dtype
    /// (what <see cref="Save"/> writes) follows.</summary>
    public Sae To(DType dtype)
    {
        CastParameters(dtype, Device);
        Config = Config with { DType = dtype switch
        {
            MechInterp.DType.Float32 => "float32", MechInterp.DType.Float64 => "float64",
            MechInterp.DType.Float16 => "float16", MechInterp.DType.BFloat16 => "bfloat16",
            _ => throw new ArgumentException($"SAE weights must be floating point, not {dtype}", nameof(dtype)),
        } };
        return this;
    }

    private static Dictionary<string, Tensor> ReadWeights(string path, SaeConfig cfg, SaeArchitecture architecture, Device device)
    {
        SafeTensorsFile file;
        try { file = SafeTensorsFile.Open(path); }
        catch (SafeTensorsFormatException e) { throw new SaeFormatException(path, e.TensorName, $"is not a readable safetensors file: {e.Problem}", e); }
        using (file)
        {
            var specs = architecture.Weights(cfg);
            string expected = string.Join(", ", specs.Select(s => $"{s.Name} {Tensor.ShapeString(s.Shape)}"));
            var compute = cfg.StorageDType == MechInterp.DType.Float64 ? MechInterp.DType.Float64 : MechInterp.DType.Float32;
            foreach (var info in file.Tensors)
            {
                if (specs.Any(s => s.Name == info.Name)) continue;
                if (info.Name == "scaling_factor" && IsAllOnes(file, info.Name)) continue; // pre-6.0 files: dropped as SAELens does
                string why = info.Name == "scaling_factor"
                    ? "is a pre-6.0 finetuning scaling factor that is not all ones; SAELens 6.x has no such weight (it would be renamed finetuning_scaling_factor and fail to load)"
                    : $"is not a weight of a '{cfg.Architecture}' SAE, which has exactly: {expected}";
                throw new SaeFormatException(path, info.Name, why);
            }
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var spec in specs)
            {
                if (!file.TryGetInfo(spec.Name, out var info))
                    throw new SaeFormatException(path, spec.Name, $"is missing: a '{cfg.Architecture}' SAE with d_in {cfg.DIn}, d_sae {cfg.DSae} needs {expected}");
                if (!info.Shape.SequenceEqual(spec.Shape))
                    throw new SaeFormatException(path, spec.Name, $"has shape {Tensor.ShapeString(info.ShapeArray())}, but cfg.json (d_in {cfg.DIn}, d_sae {cfg.DSae}{(cfg.DOut is { } o ? $", d_out {o}" : "")}) needs {Tensor.ShapeString(spec.Shape)}");
                if (!info.DType.IsFloatingPoint())
                    throw new SaeFormatException(path, spec.Name, $"is stored as {info.StoredDTypeName}; SAE weights are floating point (F32, F64, F16 or BF16)");
                result[spec.Name] = file.Read(spec.Name, compute, device).DetachFromScopes();
            }
            return result;
        }
    }

    private static bool IsAllOnes(SafeTensorsFile file, string name)
    {
        using var scope = Tensor.Scope();
        return file.Read(name, MechInterp.DType.Float64).ToArray<double>().All(v => v == 1.0);
    }
}
