using MechInterp.Backends.Cpu;
using MechInterp.Backends.Cpu.Kernels;
using Xunit;

namespace MechInterp.Tests.Cpu;

/// <summary>Runs <see cref="CpuWorkersTests"/> alone (no other test holds the pool meanwhile).</summary>
[CollectionDefinition(nameof(CpuWorkersCollection), DisableParallelization = true)]
public sealed class CpuWorkersCollection;

/// <summary>
/// The library's one worker pool: every chunk runs exactly once, the degree cap holds, nested and concurrent calls run
/// inline, a chunk's exception reaches the caller, a stalled chunk does not stop the others from being taken, and the
/// pool is sized from the process's affinity. Isolated: a parallel call made while another test's job holds the pool runs
/// inline, which would hide what these tests look at.
/// </summary>
[Collection(nameof(CpuWorkersCollection))]
public sealed class CpuWorkersTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 0)]
    [InlineData(1000, 0)]
    [InlineData(64, 1)]
    [InlineData(33, 2)]
    public void EveryChunkRunsExactlyOnce(int chunks, int maxThreads)
    {
        var counts = new int[chunks];
        for (int round = 0; round < 20; round++)
        {
            CpuWorkers.For(chunks, maxThreads, i => Interlocked.Increment(ref counts[i]));
        }
        Assert.All(counts, c => Assert.Equal(20, c));
    }

    [Fact]
    public void DegreeCapLimitsDistinctThreads()
    {
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        CpuWorkers.For(200, 1, _ => { threads[Environment.CurrentManagedThreadId] = true; Thread.SpinWait(2000); });
        Assert.Single(threads);
    }

    [Fact]
    public void NestedCallRunsInlineOnTheChunksThread()
    {
        int mismatches = 0, total = 0;
        CpuWorkers.For(8, 0, _ =>
        {
            int outer = Environment.CurrentManagedThreadId;
            Assert.True(CpuWorkers.InChunk);
            Assert.Equal(1, GemmParallel.Degree(0, 1e12));
            CpuWorkers.For(5, 0, _ =>
            {
                Interlocked.Increment(ref total);
                if (Environment.CurrentManagedThreadId != outer) Interlocked.Increment(ref mismatches);
            });
        });
        Assert.Equal(40, total);
        Assert.Equal(0, mismatches);
        Assert.False(CpuWorkers.InChunk);
    }

    [Fact]
    public void ExceptionOfAChunkReachesTheCallerAfterTheOthers()
    {
        int ran = 0;
        var e = Assert.Throws<InvalidOperationException>(() => CpuWorkers.For(16, 0, i =>
        {
            Interlocked.Increment(ref ran);
            if (i == 3) throw new InvalidOperationException("chunk 3");
        }));
        Assert.Equal("chunk 3", e.Message);
        Assert.InRange(ran, 1, 16);
        // The pool is usable afterwards.
        int after = 0;
        CpuWorkers.For(10, 0, _ => Interlocked.Increment(ref after));
        Assert.Equal(10, after);
    }

    [Fact]
    public void StalledChunkDoesNotHoldBackTheRest()
    {
        if (CpuWorkers.Threads < 2) return; // one thread runs chunks in order: nothing to overtake
        // Chunk 0 sleeps (a preempted thread); the others are taken by the remaining threads meanwhile.
        var finishedWhileStalled = 0;
        var stalled = new ManualResetEventSlim(false);
        CpuWorkers.For(50, 0, i =>
        {
            if (i == 0)
            {
                Thread.Sleep(300);
                stalled.Set();
            }
            else if (!stalled.IsSet) Interlocked.Increment(ref finishedWhileStalled);
        });
        Assert.Equal(49, finishedWhileStalled);
    }

    [Fact]
    public void ConcurrentCallersAllComplete()
    {
        var sums = new long[4];
        Parallel.For(0, 4, c =>
        {
            for (int r = 0; r < 50; r++) CpuWorkers.For(32, 0, i => Interlocked.Add(ref sums[c], i));
        });
        Assert.All(sums, s => Assert.Equal(50L * (31 * 32 / 2), s));
    }

    [Fact]
    public void SizedFromTheProcessorCountTheRuntimeReports()
    {
        // Environment.ProcessorCount is the affinity mask's size on Linux (checked by the perf16 script with taskset).
        Assert.Equal(Math.Max(1, Environment.ProcessorCount), CpuWorkers.Threads);
    }
}
