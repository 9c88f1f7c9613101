using System.Runtime.CompilerServices;

namespace MechInterp.Saes;

/// <summary>
/// Splicing SAEs into a model (SAELens's HookedSAETransformer): each SAE replaces the activation at its cfg's
/// <c>metadata.hook_name</c> with its reconstruction; with <c>useErrorTerm</c> the SAE's error is added back, so the
/// model's output is unchanged while the SAE's hook points (<c>&lt;hook_name&gt;.hook_sae_acts_post</c>, ...) can be
/// cached and edited. Transcoders replace <c>hook_name_out</c> from <c>hook_name</c>.
/// </summary>
public static class HookedModelSaes
{
    private static readonly ConditionalWeakTable<IHookedModel, List<SaeSplice>> s_added = [];

    /// <summary>Logits of <paramref name="tokens"/> with <paramref name="saes"/> spliced in for this call only.</summary>
    public static Tensor RunWithSaes(this IHookedModel model, Tensor tokens, IEnumerable<Sae> saes, bool useErrorTerm = false)
    {
        using var spliced = model.WithSaes(saes, useErrorTerm);
        return model.Forward(tokens);
    }

    /// <summary>Logits and a cache (model hooks and the SAEs' own hook points) with <paramref name="saes"/> spliced in
    /// for this call only.</summary>
    public static (Tensor Logits, ActivationCache Cache) RunWithCacheWithSaes(this IHookedModel model, Tensor tokens, IEnumerable<Sae> saes,
        bool useErrorTerm = false, Func<string, bool>? namesFilter = null)
    {
        using var spliced = model.WithSaes(saes, useErrorTerm);
        return model.RunWithCache(tokens, namesFilter);
    }

    /// <summary>Splices <paramref name="saes"/> in until the result is disposed (the scope form).</summary>
    public static IDisposable WithSaes(this IHookedModel model, IEnumerable<Sae> saes, bool useErrorTerm = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(saes);
        var splices = new List<SaeSplice>();
        try
        {
            foreach (var sae in saes) splices.Add(new SaeSplice(model, sae, useErrorTerm));
        }
        catch
        {
            foreach (var s in splices) s.Dispose();
            throw;
        }
        return new Undo(splices);
    }

    /// <summary>Splices <paramref name="sae"/> in until <see cref="ResetSaes"/> (SAELens's add_sae).</summary>
    public static void AddSae(this IHookedModel model, Sae sae, bool useErrorTerm = false)
    {
        var splice = new SaeSplice(model, sae, useErrorTerm);
        lock (s_added) s_added.GetOrCreateValue(model).Add(splice);
    }

    /// <summary>The SAEs added with <see cref="AddSae"/> and where they are.</summary>
    public static IReadOnlyList<(string HookName, Sae Sae)> Saes(this IHookedModel model)
    {
        lock (s_added) return s_added.TryGetValue(model, out var l) ? l.Select(s => (s.At, s.Sae)).ToArray() : [];
    }

    /// <summary>Removes every SAE added with <see cref="AddSae"/>.</summary>
    public static void ResetSaes(this IHookedModel model)
    {
        List<SaeSplice>? added;
        lock (s_added)
        {
            if (!s_added.TryGetValue(model, out added)) return;
            s_added.Remove(model);
        }
        for (int i = added.Count - 1; i >= 0; i--) added[i].Dispose();
    }

    private sealed class Undo(List<SaeSplice> splices) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            for (int i = splices.Count - 1; i >= 0; i--) splices[i].Dispose();
        }
    }
}
