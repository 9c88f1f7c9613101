namespace MechInterp.Saes;

/// <summary>One weight tensor of an architecture: its SAELens name and the shape cfg.json implies.</summary>
/// <param name="Name">The key in sae_weights.safetensors (W_enc, b_enc, ...).</param>
/// <param name="Shape">Its shape for the config at hand.</param>
public sealed record SaeWeightSpec(string Name, long[] Shape);

/// <summary>
/// An architecture as cfg.json names it: the weights it has and how to build its inference class from them.
/// </summary>
/// <param name="Name">The cfg.json <c>architecture</c> string.</param>
/// <param name="Weights">The weight tensors for a config, in SAELens's order.</param>
/// <param name="Create">Builds the SAE from a config and weights that match <paramref name="Weights"/>.</param>
public sealed record SaeArchitecture(string Name, Func<SaeConfig, IReadOnlyList<SaeWeightSpec>> Weights, Func<SaeConfig, IReadOnlyDictionary<string, Tensor>, Sae> Create);

/// <summary>
/// The architectures <see cref="Sae.Load"/> can read, keyed by cfg.json's <c>architecture</c> string (SAELens's
/// inference classes). BatchTopK and Matryoshka BatchTopK are training-only and save as <c>jumprelu</c>.
/// More can be added with <see cref="Register"/>.
/// </summary>
public static class SaeRegistry
{
    private static readonly Dictionary<string, SaeArchitecture> s_architectures = new(StringComparer.Ordinal);
    private static readonly object s_gate = new();

    static SaeRegistry()
    {
        foreach (var a in new[]
        {
            StandardSae.Definition, TopKSae.Definition, JumpReluSae.Definition, GatedSae.Definition,
            Transcoder.Definition, SkipTranscoder.Definition, JumpReluTranscoder.Definition,
        })
            s_architectures[a.Name] = a;
    }

    /// <summary>Every registered architecture name.</summary>
    public static IReadOnlyCollection<string> Names { get { lock (s_gate) return s_architectures.Keys.ToArray(); } }

    /// <summary>Adds (or replaces) an architecture.</summary>
    public static void Register(SaeArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        lock (s_gate) s_architectures[architecture.Name] = architecture;
    }

    /// <summary>The architecture called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such architecture; the message lists the known ones.</exception>
    public static SaeArchitecture Get(string name)
    {
        lock (s_gate)
        {
            if (s_architectures.TryGetValue(name, out var a)) return a;
            string hint = name is "batchtopk" or "matryoshka_batchtopk"
                ? $" ('{name}' is a training checkpoint; SAELens's save_inference_model writes it as 'jumprelu', which loads)"
                : "";
            throw new KeyNotFoundException($"SAE architecture '{name}' is not registered{hint}; known: {string.Join(", ", s_architectures.Keys.Order())}");
        }
    }

    /// <summary>The architecture called <paramref name="name"/>, or null.</summary>
    public static SaeArchitecture? TryGet(string name)
    {
        lock (s_gate) return s_architectures.GetValueOrDefault(name);
    }

    /// <summary>W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_out], b_dec [d_out], then <paramref name="extra"/>.</summary>
    internal static IReadOnlyList<SaeWeightSpec> LinearWeights(SaeConfig c, params SaeWeightSpec[] extra) =>
    [
        new("W_enc", [c.DIn, c.DSae]), new("b_enc", [c.DSae]), new("W_dec", [c.DSae, c.OutputWidth]), new("b_dec", [c.OutputWidth]),
        .. extra,
    ];
}
