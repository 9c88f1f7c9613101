using MechInterp.Distributed.Jobs;

namespace MechInterp.Distributed.Coordination;

/// <summary>The coordinator's book of one job: the units, who holds which, and the results recorded (once each).</summary>
internal sealed class JobRecord(string id, DistributedJob job)
{
    private readonly LinkedList<UnitLease> _pending = new();
    private readonly Dictionary<int, (WorkerId Worker, DateTime Since, UnitLease Lease)> _inFlight = [];
    private readonly Dictionary<string, int> _bySilo = new(StringComparer.Ordinal);
    private float[]?[] _results = [];
    private int[] _records = [];
    private int _done, _reassigned, _duplicates;

    public string Id { get; } = id;
    public DistributedJob Job { get; } = job;
    public JobState State { get; private set; } = JobState.Planning;
    public long[]? Shape { get; private set; }
    public string? Error { get; private set; }
    public bool HasPending => _pending.Count > 0 && State is JobState.Planning or JobState.Running;

    /// <summary>Queues the plan, or the units straight away for jobs that need none.</summary>
    public void Start()
    {
        if (Job.NeedsPlan) _pending.AddLast(new UnitLease(Id, UnitLease.PlanUnit, 0, 0));
        else Expand(null);
    }

    public UnitLease TakeNext(WorkerId worker, DateTime now)
    {
        var lease = _pending.First!.Value;
        _pending.RemoveFirst();
        _inFlight[lease.UnitId] = (worker, now, lease);
        return lease;
    }

    /// <summary>Records <paramref name="result"/> unless the unit already has one; true when recorded.</summary>
    public bool Record(WorkerId worker, UnitLease lease, UnitResult result)
    {
        if (lease.IsPlan)
        {
            if (State != JobState.Planning) { _duplicates++; return false; }
            _inFlight.Remove(lease.UnitId);
            Expand(result.Shape ?? throw new ArgumentException($"job {Id}: the plan came back without a shape"));
            return true;
        }
        if (lease.UnitId < 0 || lease.UnitId >= _results.Length) throw new ArgumentException($"job {Id} has no unit {lease.UnitId}");
        if (_results[lease.UnitId] is not null) { _duplicates++; return false; }
        int expected = Job.ValuesPerUnit(lease.Count);
        if (result.Values.Length != expected)
        {
            Fail(worker, lease, $"{result.Values.Length} values came back where {expected} were due (do all silos run the same version?)");
            return false;
        }
        _results[lease.UnitId] = result.Values;
        _records[lease.UnitId]++;
        _inFlight.Remove(lease.UnitId);
        // A unit handed out twice (an expired lease) leaves the queue once it is recorded.
        for (var n = _pending.First; n is not null; n = n.Next)
            if (n.Value.UnitId == lease.UnitId) { _pending.Remove(n); break; }
        _bySilo[worker.SiloName] = _bySilo.GetValueOrDefault(worker.SiloName) + 1;
        if (++_done == _results.Length) State = JobState.Completed;
        return true;
    }

    public void Fail(WorkerId worker, UnitLease lease, string error)
    {
        if (State is JobState.Completed or JobState.Failed) return;
        State = JobState.Failed;
        Error = $"unit {lease.UnitId} failed on {worker}: {error}";
        _pending.Clear();
        _inFlight.Clear();
    }

    /// <summary>Puts back at the head of the queue every unit held by a worker that matches <paramref name="gone"/>,
    /// and every unit held longer than <paramref name="timeout"/>; returns how many.</summary>
    public int Reclaim(Func<WorkerId, bool> gone, DateTime now, TimeSpan timeout)
    {
        int reclaimed = 0;
        foreach (var (unit, held) in _inFlight.ToList())
        {
            if (!gone(held.Worker) && now - held.Since < timeout) continue;
            _inFlight.Remove(unit);
            _pending.AddFirst(held.Lease);
            _reassigned++;
            reclaimed++;
        }
        return reclaimed;
    }

    public JobStatus Status() => new()
    {
        JobId = Id,
        State = State,
        Units = _results.Length,
        Done = _done,
        InFlight = _inFlight.Count,
        Reassigned = _reassigned,
        DuplicatesIgnored = _duplicates,
        UnitsBySilo = new Dictionary<string, int>(_bySilo),
        Error = Error,
        RecordsPerUnit = [.. _records],
    };

    public float[][] Results() => State == JobState.Completed
        ? _results.Select(r => r!).ToArray()
        : throw new InvalidOperationException($"job {Id} is {State}, not completed" + (Error is null ? "" : $": {Error}"));

    private void Expand(long[]? shape)
    {
        Shape = shape;
        var units = Job.Split(shape);
        _results = new float[]?[units.Count];
        _records = new int[units.Count];
        for (int u = 0; u < units.Count; u++) _pending.AddLast(new UnitLease(Id, u, units[u].First, units[u].Count));
        State = units.Count == 0 ? JobState.Completed : JobState.Running;
    }
}
