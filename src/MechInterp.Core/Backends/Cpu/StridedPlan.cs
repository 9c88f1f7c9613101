namespace MechInterp.Backends.Cpu;

/// <summary>Processes <paramref name="count"/> consecutive inner elements; <paramref name="offsets"/> holds each
/// operand's element offset of the first one (inner strides are <see cref="StridedPlan.InnerStride"/>).</summary>
internal delegate void RowAction(ReadOnlySpan<long> offsets, int count);

/// <summary>
/// An iteration plan over several operands that share one (broadcast) shape: size-1 dims are dropped and
/// adjacent dims that are contiguous in every operand are merged, so work proceeds in long inner rows
/// (a broadcast operand has inner stride 0: the scalar and row-broadcast fast paths). Large plans run in
/// parallel over element ranges.
/// </summary>
internal sealed class StridedPlan
{
    /// <summary>Below this many elements a plan runs on the calling thread.</summary>
    public const long ParallelThreshold = 1 << 16;

    private readonly long[] _shape;
    private readonly long[][] _strides;
    private readonly long[] _offsets;

    private StridedPlan(long[] shape, long[][] strides, long[] offsets)
    {
        _shape = shape;
        _strides = strides;
        _offsets = offsets;
        Count = ShapeUtil.NumElements(shape);
    }

    /// <summary>Total elements.</summary>
    public long Count { get; }

    /// <summary>Length of the innermost (merged) dim.</summary>
    public long Inner => _shape[^1];

    /// <summary>Inner stride of operand <paramref name="k"/>.</summary>
    public long InnerStride(int k) => _strides[k][^1];

    /// <summary>Strides of <paramref name="h"/> when broadcast to <paramref name="shape"/> (0 on broadcast dims).</summary>
    public static long[] BroadcastStrides(CpuHandle h, long[] shape)
    {
        var result = new long[shape.Length];
        int lead = shape.Length - h.Rank;
        for (int i = 0; i < h.Rank; i++)
            result[lead + i] = h.ShapeArray[i] == 1 && shape[lead + i] != 1 ? 0 : h.Strides[i];
        return result;
    }

    /// <summary>A plan for a new contiguous output (operand 0) and inputs broadcast to <paramref name="shape"/>.</summary>
    public static StridedPlan ForOutput(long[] shape, params CpuHandle[] inputs)
    {
        var ops = new (long, long[])[inputs.Length + 1];
        ops[0] = (0, ShapeUtil.ContiguousStrides(shape));
        for (int i = 0; i < inputs.Length; i++) ops[i + 1] = (inputs[i].Offset, BroadcastStrides(inputs[i], shape));
        return Create(shape, ops);
    }

    /// <summary>Builds a plan from per-operand base offsets and strides aligned with <paramref name="shape"/>.</summary>
    public static StridedPlan Create(long[] shape, params (long Offset, long[] Strides)[] operands)
    {
        var dims = new List<int>();
        for (int i = 0; i < shape.Length; i++) if (shape[i] != 1) dims.Add(i);
        var newShape = new List<long>();
        var newStrides = operands.Select(_ => new List<long>()).ToArray();
        foreach (int d in dims)
        {
            bool merge = newShape.Count > 0;
            for (int k = 0; k < operands.Length && merge; k++)
                merge = newStrides[k][^1] == operands[k].Strides[d] * shape[d];
            if (merge)
            {
                newShape[^1] *= shape[d];
                for (int k = 0; k < operands.Length; k++) newStrides[k][^1] = operands[k].Strides[d];
            }
            else
            {
                newShape.Add(shape[d]);
                for (int k = 0; k < operands.Length; k++) newStrides[k].Add(operands[k].Strides[d]);
            }
        }
        if (newShape.Count == 0 || shape.Any(s => s == 0))
        {
            newShape = [shape.Any(s => s == 0) ? 0 : 1];
            for (int k = 0; k < operands.Length; k++) newStrides[k] = [1];
        }
        return new StridedPlan([.. newShape], newStrides.Select(s => s.ToArray()).ToArray(), operands.Select(o => o.Offset).ToArray());
    }

    /// <summary>Runs <paramref name="action"/> over all elements, in parallel when large.</summary>
    public void Run(RowAction action, long threshold = ParallelThreshold)
    {
        if (Count == 0) return;
        int workers = Count >= threshold && !CpuWorkers.InChunk ? Math.Min(CpuWorkers.Threads, (int)Math.Max(1, Count / (threshold / 2))) : 1;
        if (workers <= 1) { RunRange(0, Count, action); return; }
        int chunks = CpuWorkers.ChunkCount(Count / (threshold / 8), workers);
        long chunk = (Count + chunks - 1) / chunks;
        CpuWorkers.For(chunks, workers, w =>
        {
            long start = w * chunk, end = Math.Min(Count, start + chunk);
            if (start < end) RunRange(start, end, action);
        });
    }

    private void RunRange(long start, long end, RowAction action)
    {
        int nOps = _offsets.Length, rank = _shape.Length;
        Span<long> offs = stackalloc long[nOps];
        long inner = Inner;
        long e = start;
        while (e < end)
        {
            long row = e / inner, col = e % inner;
            for (int k = 0; k < nOps; k++) offs[k] = _offsets[k] + col * _strides[k][rank - 1];
            long r = row;
            for (int d = rank - 2; d >= 0; d--)
            {
                long i = r % _shape[d];
                r /= _shape[d];
                for (int k = 0; k < nOps; k++) offs[k] += i * _strides[k][d];
            }
            int count = (int)Math.Min(inner - col, end - e);
            action(offs, count);
            e += count;
        }
    }

    /// <summary>Runs <paramref name="body"/> over [0, <paramref name="n"/>) in parallel blocks when <paramref name="work"/> (elements touched) is large.</summary>
    public static void ParallelRange(long n, long work, Action<long, long> body, long threshold = ParallelThreshold)
    {
        int workers = work >= threshold && !CpuWorkers.InChunk ? (int)Math.Min(CpuWorkers.Threads, n) : 1;
        if (workers <= 1) { if (n > 0) body(0, n); return; }
        // More chunks than threads (each still ≥ threshold / 8 of work), taken dynamically from the library's pool.
        int chunks = CpuWorkers.ChunkCount(Math.Min(n, work / Math.Max(1, threshold / 8)), workers);
        long chunk = (n + chunks - 1) / chunks;
        CpuWorkers.For((int)((n + chunk - 1) / chunk), workers, w =>
        {
            long s = w * chunk, e = Math.Min(n, s + chunk);
            if (s < e) body(s, e);
        });
    }
}
