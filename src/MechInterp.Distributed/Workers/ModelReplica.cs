using MechInterp.Distributed.Jobs;

namespace MechInterp.Distributed.Workers;

/// <summary>
/// One model on one device of a worker silo, loaded when the first unit that needs it arrives and kept for the next;
/// with it, the state one job builds once per replica (a sweep's source cache and cells), kept for that job's units.
/// </summary>
internal sealed class ModelReplica(int index, Device device)
{
    private (string Key, HookedTransformer Model)? _model;
    private (string JobId, object State)? _jobState;

    public int Index { get; } = index;
    public Device Device { get; } = device;

    /// <summary>The job's model on this replica's device (loaded anew only when the job names another model or
    /// other load options).</summary>
    public HookedTransformer Model(DistributedJob job)
    {
        string key = $"{job.Model}|{job.FoldLayerNorm}|{job.CenterWritingWeights}|{job.CenterUnembed}|{job.FoldValueBiases}";
        if (_model is { } m && m.Key == key) return m.Model;
        _jobState = null;
        var model = HookedTransformer.FromPretrained(job.Model, job.LoadOptions(Device));
        _model = (key, model);
        return model;
    }

    /// <summary>The state of job <paramref name="jobId"/>, made by <paramref name="create"/> on its first unit here.</summary>
    public T JobState<T>(string jobId, Func<T> create) where T : class
    {
        if (_jobState is { } s && s.JobId == jobId && s.State is T state) return state;
        _jobState = null; // the previous job's tensors go before the next job's are made
        var made = create();
        _jobState = (jobId, made);
        return made;
    }
}
