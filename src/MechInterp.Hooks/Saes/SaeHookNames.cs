namespace MechInterp.Saes;

/// <summary>
/// The names SAELens gives the hook points of a sparse autoencoder spliced into a model at one of its hook points
/// (<c>blocks.1.hook_resid_post</c> → <c>blocks.1.hook_resid_post.hook_sae_acts_post</c>, ...): the contract between
/// a spliced dictionary (MechInterp.Saes) and the instruments that read caches and draw views, so that neither spells
/// the strings itself. In Hooks because instruments need the names without depending on the SAE package.
/// </summary>
public static class SaeHookNames
{
    /// <summary>The SAE's input, as the model gave it (<c>hook_sae_input</c>).</summary>
    public const string Input = "hook_sae_input";
    /// <summary>Latent pre-activations (<c>hook_sae_acts_pre</c>).</summary>
    public const string ActsPre = "hook_sae_acts_pre";
    /// <summary>Latent activations (<c>hook_sae_acts_post</c>).</summary>
    public const string ActsPost = "hook_sae_acts_post";
    /// <summary>The reconstruction before output normalisation (<c>hook_sae_recons</c>).</summary>
    public const string Recons = "hook_sae_recons";
    /// <summary>Input minus reconstruction, with the error term on (<c>hook_sae_error</c>).</summary>
    public const string Error = "hook_sae_error";
    /// <summary>What the SAE hands back to the model (<c>hook_sae_output</c>).</summary>
    public const string Output = "hook_sae_output";

    /// <summary>Every SAE hook point suffix, in the order SAELens runs them.</summary>
    public static IReadOnlyList<string> All { get; } = [Input, ActsPre, ActsPost, Recons, Error, Output];

    /// <summary>The full name of SAE hook <paramref name="suffix"/> for an SAE spliced at <paramref name="hookName"/>.</summary>
    public static string Under(string hookName, string suffix)
    {
        ArgumentException.ThrowIfNullOrEmpty(hookName);
        if (!All.Contains(suffix))
            throw new ArgumentException($"'{suffix}' is not an SAE hook point: use one of {string.Join(", ", All)}", nameof(suffix));
        return $"{hookName}.{suffix}";
    }

    /// <summary>True when <paramref name="name"/> is the hook point of an SAE spliced somewhere (ends with one of <see cref="All"/>).</summary>
    public static bool IsSaeHook(string name) => All.Any(s => name.EndsWith("." + s, StringComparison.Ordinal));
}
