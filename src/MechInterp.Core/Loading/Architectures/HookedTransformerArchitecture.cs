namespace MechInterp.Loading.Architectures;

/// <summary>A folder written by <see cref="Training.Checkpoint.Save"/>: config.json is a serialised
/// <see cref="HookedTransformerConfig"/> and the weights are already in TransformerLens's names and layout.</summary>
internal sealed class HookedTransformerArchitecture : IArchitecture
{
    public IReadOnlyList<string> ClassNames { get; } = [Training.Checkpoint.ArchitectureName];
    public string[] Prefixes { get; } = [];

    public HookedTransformerConfig MapConfig(HfConfig hf) => Training.Checkpoint.ReadConfig(hf.Path);

    /// <summary>Every tensor of the file under its own name (the importer rejects missing and unexpected ones).</summary>
    public IEnumerable<(string Name, Tensor Value)> ConvertWeights(HookedTransformerConfig c, WeightSource w)
    {
        foreach (var name in w.Unused.ToList()) yield return (name, w.Get(name));
    }
}
