namespace MechInterp.Loading.Architectures;

/// <summary>The Hugging Face model classes MechInterp can load.</summary>
internal static class ArchitectureRegistry
{
    private static readonly IArchitecture[] s_all =
    [
        new Gpt2Architecture(), new NeoXArchitecture(), new LlamaFamilyArchitecture(),
        new GptJArchitecture(), new GptNeoArchitecture(), new OptArchitecture(), new PhiArchitecture(),
        new HookedTransformerArchitecture(),
    ];

    public static IEnumerable<string> Supported => s_all.SelectMany(a => a.ClassNames);

    public static IArchitecture For(string className, string configPath)
    {
        if (new BertArchitecture().ClassNames.Contains(className))
            throw new NotSupportedException($"'{configPath}' describes a {className}, an encoder: load it with HookedEncoder.FromPretrained, not HookedTransformer.FromPretrained");
        return s_all.FirstOrDefault(a => a.ClassNames.Contains(className)) ?? throw new UnsupportedArchitectureException(className, configPath, Supported);
    }
}
