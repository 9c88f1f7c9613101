namespace MechInterp;

/// <summary>config.json names a model class MechInterp cannot load.</summary>
public sealed class UnsupportedArchitectureException(string architecture, string configPath, IEnumerable<string> supported)
    : NotSupportedException($"'{configPath}' describes a {architecture}, which MechInterp does not support yet. Supported: {string.Join(", ", supported)}. " +
        "Ask for it by opening an issue on the MechInterp.NET repository with the model id and its config.json.")
{
    /// <summary>The unsupported HF class name.</summary>
    public string Architecture { get; } = architecture;
}
