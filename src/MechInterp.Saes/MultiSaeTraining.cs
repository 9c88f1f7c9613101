namespace MechInterp.Saes;

/// <summary>One SAE trained from an <see cref="ActivationStore"/>: its trainer, the hook it reads and, for a
/// transcoder, the hook whose activations it must predict.</summary>
/// <param name="Trainer">The SAE's trainer.</param>
/// <param name="InputHook">The hook it encodes.</param>
/// <param name="TargetHook">A transcoder's output hook (null for SAEs).</param>
public sealed record SaeTrainingJob(SaeTrainer Trainer, string InputHook, string? TargetHook = null)
{
    /// <summary>An SAE or transcoder job with the hooks its cfg.json names.</summary>
    public static SaeTrainingJob For(SaeTrainer trainer) => new(trainer,
        trainer.Sae.Config.HookName ?? throw new ArgumentException("the SAE's config has no metadata.hook_name: give the hook explicitly", nameof(trainer)),
        trainer.Sae.IsTranscoder ? trainer.Sae.Config.HookNameOut : null);
}

/// <summary>
/// Several SAEs (different hooks, sizes or architectures) trained from one pass of the model: each batch of the store
/// feeds every job's trainer, so the model runs once per chunk of sequences however many SAEs learn from it.
/// </summary>
public static class MultiSaeTraining
{
    /// <summary>The store the jobs need (every input and target hook).</summary>
    public static ActivationStore StoreFor(IHookedModel model, Tensor tokens, IEnumerable<SaeTrainingJob> jobs, ActivationStoreOptions? options = null) =>
        new(model, tokens, jobs.SelectMany(j => j.TargetHook is null ? [j.InputHook] : new[] { j.InputHook, j.TargetHook }), options);

    /// <summary>Trains every job on the store's batches until all are done or the data ends; reports each job's
    /// progress (with its index) every <see cref="SaeTrainerOptions.ReportEvery"/> of its steps.</summary>
    public static void Train(ActivationStore store, IReadOnlyList<SaeTrainingJob> jobs, IProgress<(int Job, SaeTrainingProgress Progress)>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(jobs);
        foreach (var j in jobs)
        {
            if (!store.HookNames.Contains(j.InputHook) || (j.TargetHook is not null && !store.HookNames.Contains(j.TargetHook)))
                throw new ArgumentException($"the store does not hold '{j.InputHook}'{(j.TargetHook is null ? "" : $" or '{j.TargetHook}'")}: build it with MultiSaeTraining.StoreFor", nameof(jobs));
            if (j.Trainer.Sae.IsTranscoder && j.TargetHook is null)
                throw new ArgumentException($"the transcoder reading '{j.InputHook}' needs a TargetHook", nameof(jobs));
        }
        foreach (var batch in store.Batches())
        {
            cancellation.ThrowIfCancellationRequested();
            bool any = false;
            for (int i = 0; i < jobs.Count; i++)
            {
                var t = jobs[i].Trainer;
                if (t.Done) continue;
                any = true;
                var p = t.Step(batch[jobs[i].InputHook], jobs[i].TargetHook is { } target ? batch[target] : null);
                if (t.StepCount % Math.Max(1, t.Options.ReportEvery) == 0 || t.Done) progress?.Report((i, p));
            }
            foreach (var tensor in batch.Values) tensor.Dispose();
            if (!any) break;
        }
    }
}
