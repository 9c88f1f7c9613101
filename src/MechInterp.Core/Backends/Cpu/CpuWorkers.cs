namespace MechInterp.Backends.Cpu;

/// <summary>
/// The one pool of worker threads behind every parallel kernel of the managed backend (GEMM panels, attention heads,
/// row-wise ops, packing). Sized from the process's CPU affinity (<see cref="Environment.ProcessorCount"/> honours
/// <c>sched_getaffinity</c> and cgroup limits on Linux): the caller plus <c>Threads - 1</c> background threads.
/// Work is split into chunks, more than there are threads, taken one at a time from a shared counter, so a worker
/// the OS preempts delays only the chunk it holds: the others (the caller included) take the rest. Idle workers and a
/// caller waiting for the last chunk spin only briefly (<see cref="SpinIterations"/>) and then block, so a process
/// sharing the cores is not starved and the OS can move a preempted worker to the core the waiter freed.
/// A call from inside a chunk (nested parallelism) or while another thread's job holds the pool runs inline.
/// </summary>
internal static class CpuWorkers
{
    /// <summary>Spin iterations (<see cref="Thread.SpinWait"/> of 20) before a waiter blocks: a few tens of µs, about
    /// the gap between two kernels of one forward pass, far below an OS time slice.</summary>
    public const int SpinIterations = 400;

    private static readonly object s_startLock = new();
    private static readonly SemaphoreSlim s_wake = new(0);
    private static Job? s_job;
    private static long s_generation;
    private static int s_busy;
    private static int s_sleepers;
    private static bool s_started;

    [ThreadStatic] private static bool t_inChunk;

    /// <summary>Threads that run chunks: the calling thread plus the pool's workers (at least 1).</summary>
    public static int Threads { get; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>True on a thread that is running a chunk (its own parallel calls run inline).</summary>
    public static bool InChunk => t_inChunk;

    /// <summary>Runs <paramref name="body"/>(0..<paramref name="chunks"/>-1), each chunk once, on at most
    /// <paramref name="maxThreads"/> threads (0 = all; the caller is one of them), and returns when all are done. The
    /// first exception a chunk throws is rethrown here after the others finished.</summary>
    public static void For(int chunks, int maxThreads, Action<int> body)
    {
        if (chunks <= 0) return;
        int threads = maxThreads <= 0 ? Threads : Math.Min(maxThreads, Threads);
        threads = Math.Min(threads, chunks);
        if (threads <= 1 || t_inChunk || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            RunInline(chunks, body);
            return;
        }
        try
        {
            EnsureStarted();
            var job = new Job(chunks, threads - 1, body);
            Volatile.Write(ref s_job, job);
            Interlocked.Increment(ref s_generation);
            int sleepers = Volatile.Read(ref s_sleepers);
            if (sleepers > 0) s_wake.Release(Math.Min(sleepers, threads - 1));
            job.Work();
            job.WaitAll();
            Volatile.Write(ref s_job, null);
            job.ThrowIfFailed();
        }
        finally { Volatile.Write(ref s_busy, 0); }
    }

    /// <summary>Chunks in which to split <paramref name="units"/> indivisible units of work for <paramref name="threads"/>
    /// threads: <paramref name="perThread"/> per thread when there are enough units, so one slow thread holds up at
    /// most a fraction of the work.</summary>
    public static int ChunkCount(long units, int threads, int perThread = 4) =>
        (int)Math.Max(1, Math.Min(units, (long)Math.Max(1, threads) * perThread));

    private static void RunInline(int chunks, Action<int> body)
    {
        bool outer = t_inChunk;
        t_inChunk = true;
        try
        {
            for (int i = 0; i < chunks; i++) body(i);
        }
        finally { t_inChunk = outer; }
    }

    private static void EnsureStarted()
    {
        if (Volatile.Read(ref s_started)) return;
        lock (s_startLock)
        {
            if (s_started) return;
            for (int i = 1; i < Threads; i++)
                new Thread(WorkerLoop) { IsBackground = true, Name = $"MechInterp.Cpu worker {i}" }.Start();
            Volatile.Write(ref s_started, true);
        }
    }

    private static void WorkerLoop()
    {
        long seen = 0;
        while (true)
        {
            long generation = Volatile.Read(ref s_generation);
            for (int spin = 0; generation == seen && spin < SpinIterations; spin++)
            {
                Thread.SpinWait(20);
                generation = Volatile.Read(ref s_generation);
            }
            if (generation == seen)
            {
                // Announce the sleep, then look once more: a job published in between either sees this sleeper and
                // wakes it, or is seen here.
                Interlocked.Increment(ref s_sleepers);
                if (Volatile.Read(ref s_generation) == seen) s_wake.Wait();
                Interlocked.Decrement(ref s_sleepers);
                continue;
            }
            seen = generation;
            if (Volatile.Read(ref s_job) is { } job && job.TryJoin()) job.Work();
        }
    }

    /// <summary>One parallel call: a shared counter of chunks handed out and one of chunks finished.</summary>
    private sealed class Job(int chunks, int helpers, Action<int> body)
    {
        private readonly ManualResetEventSlim _done = new(false, 0);
        private int _next = -1;
        private int _finished;
        private int _helpers = helpers;
        private Exception? _error;

        /// <summary>Takes one of the helper places (the degree cap); false when the job has enough threads.</summary>
        public bool TryJoin() => Interlocked.Decrement(ref _helpers) >= 0;

        /// <summary>Takes and runs chunks until none is left.</summary>
        public void Work()
        {
            bool outer = t_inChunk;
            t_inChunk = true;
            try
            {
                int i;
                while ((i = Interlocked.Increment(ref _next)) < chunks)
                {
                    try
                    {
                        if (Volatile.Read(ref _error) is null) body(i);
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref _error, e, null);
                    }
                    if (Interlocked.Increment(ref _finished) == chunks) _done.Set();
                }
            }
            finally { t_inChunk = outer; }
        }

        /// <summary>Waits (bounded spin, then blocking) until every chunk has finished.</summary>
        public void WaitAll()
        {
            for (int spin = 0; Volatile.Read(ref _finished) < chunks && spin < SpinIterations; spin++) Thread.SpinWait(20);
            if (Volatile.Read(ref _finished) < chunks) _done.Wait();
        }

        public void ThrowIfFailed()
        {
            if (_error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
        }
    }
}
