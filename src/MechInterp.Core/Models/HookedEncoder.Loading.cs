using MechInterp.Loading.Architectures;

namespace MechInterp;

public sealed partial class HookedEncoder : IDisposable
{
    /// <summary>
    /// Loads a Hugging Face BERT checkpoint (<c>BertForMaskedLM</c> with its MLM head, or a bare <c>BertModel</c>):
    /// a model directory (config.json, safetensors, vocab.txt) or a model id in the local Hugging Face cache. Accepts
    /// <c>LayerNorm.gamma/beta</c> names and ignores pooler and next-sentence weights. Float32 weights stay in the
    /// memory-mapped file where they can (see <see cref="LoadOptions.MemoryMapWeights"/>); <see cref="Dispose"/>
    /// releases them.
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
        var source = new WeightSource(files, arch.Prefixes, options.ShouldMemoryMap());
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
        var c = Config;
        var expected = NamedParameters().ToList();
        ParameterImport.Load(expected, weights,
            (name, stored) => name == "mlm_head.W" ? stored : StateDictMapping.ToTransformerLensShape(c, name, stored),
            (name, tl) => name == "mlm_head.W" ? tl.T : StateDictMapping.FromTransformerLens(c, name, tl, (t, s) => t.Reshape(s)),
            Device, options.Progress,
            unexpected => unexpected.Any(u => u.StartsWith("mlm_head.", StringComparison.Ordinal) || u.StartsWith("unembed.", StringComparison.Ordinal))
                ? " (the checkpoint has an MLM head this encoder was created without)" : "");
        if (options.DType != DType.Float32) ConvertDType(options.DType);
        options.Progress?.Report(new LoadProgress("done", expected.Count, expected.Count));
    }

    /// <summary>Disposes every weight: pooled buffers go back to the pool and memory-mapped checkpoint files are
    /// unmapped once no tensor uses them. The encoder cannot run afterwards.</summary>
    public void Dispose() => HookedTransformer.DisposeParameters(this);

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
