using MechInterp.Loading.Architectures;

namespace MechInterp;

public sealed partial class HookedTransformer : IDisposable
{
    /// <summary>
    /// Loads a Hugging Face checkpoint: a model directory (config.json, model.safetensors or sharded safetensors with
    /// its index, tokenizer files) or a model id ("gpt2", "EleutherAI/pythia-70m") resolved in the local Hugging Face
    /// cache. Weights are converted to TransformerLens's layout; logits match Hugging Face's unless weight processing
    /// is asked for in <paramref name="options"/>. On the managed CPU device, float32 weights whose layout is the
    /// checkpoint's (or a view of it) stay in the memory-mapped file instead of being copied
    /// (<see cref="LoadOptions.MemoryMapWeights"/>); <see cref="Dispose"/> releases them.
    /// </summary>
    public static HookedTransformer FromPretrained(string pathOrModelId, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        string dir = ResolveModelDirectory(pathOrModelId, options.Revision);
        var configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"'{dir}' has no config.json: point FromPretrained at a Hugging Face model directory", configPath);
        options.Progress?.Report(new LoadProgress("config", 0, 1, configPath));
        var hf = HfConfig.Load(configPath);
        var arch = ArchitectureRegistry.For(hf.Architecture, configPath);
        var config = arch.MapConfig(hf) with { ModelName = pathOrModelId };
        if (options.ConfigureConfig is not null) config = options.ConfigureConfig(config);

        using var files = CheckpointFiles.Open(dir);
        ConfigWeightsCheck.RequirePlausible(config, files, configPath);
        var source = new WeightSource(files, arch.Prefixes, options.ShouldMemoryMap());
        TextTokenizer? tokenizer = TryLoadTokenizer(dir);
        var model = new HookedTransformer(config, options.Device, tokenizer);
        ParameterImport.Load(model.NamedParameters().ToList(), arch.ConvertWeights(config, source),
            (name, stored) => StateDictMapping.ToTransformerLensShape(config, name, stored),
            (name, tl) => StateDictMapping.FromTransformerLens(config, name, tl, (t, s) => t.Reshape(s)),
            options.Device, options.Progress, configSummary: ConfigWeightsCheck.Describe(config));
        if (options.DType != DType.Float32) model.ConvertDType(options.DType);
        if (options.Processing != WeightProcessing.None)
        {
            // Processing leaves views of the old (possibly mapped) weights behind; the scope releases them.
            using var scope = Tensor.Scope();
            model.ProcessWeights(options.Processing);
        }
        if (options.ReleaseCachedMemory) options.Device.ReleaseCachedMemory();
        model.PrepackProjectionWeights();
        model.WarmUpKernels();
        int total = model.NamedParameters().Count();
        options.Progress?.Report(new LoadProgress("done", total, total));
        return model;
    }

    /// <summary>The parameter names (last segment) that forward passes multiply as the right-hand GEMM operand.</summary>
    private static readonly string[] s_projectionWeights = ["W_Q", "W_K", "W_V", "W_O", "W_in", "W_gate", "W_out", "W_U"];

    /// <summary>Makes the GEMM layout of every projection weight now (issue 16: the first forward passes after loading
    /// would otherwise pack all of them at once, a 4× stall on GPT-2 small). Backends without weight packing ignore it.</summary>
    internal void PrepackProjectionWeights()
    {
        foreach (var (name, p) in NamedParameters())
        {
            if (p.Value.Rank == 2 && s_projectionWeights.Contains(name[(name.LastIndexOf('.') + 1)..])) p.Value.PrepackAsWeight();
        }
    }

    /// <summary>One short forward pass (16 tokens, no gradient, results dropped) at load on the managed engine, so the
    /// kernels are compiled and their scratch buffers exist before the user's first pass (issue 16: without it the first
    /// passes after loading ran 2–4× the steady time). No hook is registered at load, so nothing observes it.</summary>
    internal void WarmUpKernels()
    {
        if (Device != Device.Cpu || Config.NCtx < 1) return;
        using var scope = Tensor.Scope();
        using var noGrad = GradMode.NoGrad();
        Forward(Tensor.Zeros([1, Math.Min(16, Config.NCtx)], DType.Int64, Device));
    }

    /// <summary>A model directory: <paramref name="pathOrModelId"/> itself, the directory of a file in it, or a model id
    /// resolved in the local Hugging Face cache. Something written as a path that does not exist is reported as a
    /// missing directory, not as an unknown model id.</summary>
    internal static string ResolveModelDirectory(string pathOrModelId, string? revision)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrModelId);
        if (Directory.Exists(pathOrModelId)) return pathOrModelId;
        if (File.Exists(pathOrModelId)) return Path.GetDirectoryName(Path.GetFullPath(pathOrModelId))!;
        if (LooksLikePath(pathOrModelId))
            throw new DirectoryNotFoundException($"model directory '{pathOrModelId}' does not exist (full path '{Path.GetFullPath(pathOrModelId)}'): check the path, or pass a Hugging Face model id such as \"gpt2\" or \"org/name\" to load from the local cache");
        return HuggingFaceCache.ResolveSnapshot(pathOrModelId, revision);
    }

    /// <summary>True for text that can only be a file-system path: rooted, relative with ./ or ../, ~, a backslash, or
    /// more than one '/' (a model id is "name" or "org/name").</summary>
    private static bool LooksLikePath(string s) =>
        Path.IsPathRooted(s) || s.StartsWith('.') || s.StartsWith('~') || s.Contains('\\') || s.Count(c => c == '/') > 1;

    /// <summary>Disposes every weight: pooled buffers go back to the pool and memory-mapped checkpoint files are
    /// unmapped once no tensor uses them. The model cannot run afterwards. Views of weights taken earlier (for example
    /// <c>model.W_E</c> kept by the caller) keep their data until they are disposed too.</summary>
    public void Dispose() => DisposeParameters(this);

    /// <summary>Disposes the current value of every parameter of <paramref name="module"/>.</summary>
    internal static void DisposeParameters(Module module)
    {
        foreach (var (_, p) in module.NamedParameters())
            if (!p.Value.IsDisposed) p.Value.Dispose();
    }


    private static TextTokenizer? TryLoadTokenizer(string dir)
    {
        try { return TextTokenizer.FromPretrained(dir); }
        catch (TokenizerFilesNotFoundException) { return null; }
    }

    /// <summary>Casts every parameter to <paramref name="dtype"/> (half precision needs a Torch device).</summary>
    public void ConvertDType(DType dtype) => CastParameters(dtype, Device);

    /// <summary>Moves every weight to <paramref name="device"/>.</summary>
    public HookedTransformer To(Device device)
    {
        if (device == Device) return this;
        MoveParameters(device);
        Device = device;
        return this;
    }
}
