using MechInterp.Loading.Architectures;

namespace MechInterp;

public sealed partial class HookedEncoder
{
    /// <summary>
    /// Loads a Hugging Face BERT checkpoint (<c>BertForMaskedLM</c> with its MLM head, or a bare <c>BertModel</c>):
    /// a model directory (config.json, safetensors, vocab.txt) or a model id in the local Hugging Face cache. Accepts
    /// <c>LayerNorm.gamma/beta</c> names and ignores pooler and next-sentence weights.
    /// </summary>
    public static HookedEncoder FromPretrained(string pathOrModelId, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        if (options.Processing != WeightProcessing.None)
            throw new NotSupportedException("weight processing (FoldLayerNorm, centering, FoldValueBiases) is not implemented for encoders, whose LayerNorms follow the residual adds: load without it");
        string dir = Directory.Exists(pathOrModelId) ? pathOrModelId
            : File.Exists(pathOrModelId) ? Path.GetDirectoryName(Path.GetFullPath(pathOrModelId))!
            : HuggingFaceCache.ResolveSnapshot(pathOrModelId, options.Revision);
        var configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"'{dir}' has no config.json: point HookedEncoder.FromPretrained at a Hugging Face model directory", configPath);
        options.Progress?.Report(new LoadProgress("config", 0, 1, configPath));
        var hf = HfConfig.Load(configPath);
        var arch = new BertArchitecture();
        if (!arch.ClassNames.Contains(hf.Architecture))
            throw new UnsupportedArchitectureException(hf.Architecture, configPath, arch.ClassNames);
        var config = arch.MapConfig(hf) with { ModelName = pathOrModelId };
        if (options.ConfigureConfig is not null) config = options.ConfigureConfig(config);

        using var files = CheckpointFiles.Open(dir);
        var source = new WeightSource(files, arch.Prefixes);
        TextTokenizer? tokenizer;
        try { tokenizer = TextTokenizer.FromPretrained(dir); }
        catch (TokenizerFilesNotFoundException) { tokenizer = null; }
        var model = new HookedEncoder(config, options.Device, tokenizer, BertArchitecture.TokenTypes(hf), BertArchitecture.HasMlmHead(source));
        model.LoadConverted(arch.ConvertWeights(config, source), options);
        return model;
    }

    /// <summary>Loads TransformerLens-named tensors as they are produced, reporting progress, then casts as asked.</summary>
    internal void LoadConverted(IEnumerable<(string Name, Tensor Value)> weights, LoadOptions options)
    {
        int total = NamedParameters().Count();
        var stateDict = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using (GradMode.NoGrad())
            {
                foreach (var (name, value) in weights)
                {
                    stateDict[name] = value.DetachFromScopes();
                    options.Progress?.Report(new LoadProgress("weights", stateDict.Count, total, name));
                }
                LoadStateDict(stateDict);
            }
        }
        finally
        {
            foreach (var t in stateDict.Values) t.Dispose();
        }
        if (options.DType != DType.Float32) ConvertDType(options.DType);
        options.Progress?.Report(new LoadProgress("done", total, total));
    }

    /// <summary>Casts every parameter to <paramref name="dtype"/> (half precision needs a Torch device).</summary>
    public void ConvertDType(DType dtype) => CastParameters(dtype, Device);

    /// <summary>Moves every weight to <paramref name="device"/>.</summary>
    public HookedEncoder To(Device device)
    {
        if (device == Device) return this;
        MoveParameters(device);
        Device = device;
        return this;
    }
}
