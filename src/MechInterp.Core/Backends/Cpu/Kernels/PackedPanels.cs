using System.Runtime.CompilerServices;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// A whole k×n right-hand GEMM operand stored once in the micro-kernel's panel layout, so that a weight read by
/// many GEMMs is packed once instead of on every call. For each k slice s of <see cref="GemmBlocked.Kc"/> rows
/// (depth kc_s, the last one shorter), the slice's panels follow one another: panel q holds
/// B(s·Kc + p, q·nr + j) at <c>SliceStart(s) + q·nr·kc_s + p·nr + j</c>, zero past column n. That is exactly what
/// <see cref="GemmPacking.PackB"/> writes for a block starting at a multiple of nr, so the blocked driver can point
/// into it for any column range that starts on a panel boundary.
/// </summary>
internal sealed unsafe class PackedPanels
{
    private readonly float[] _data;

    private PackedPanels(int k, int n, int nr)
    {
        K = k;
        N = n;
        Nr = nr;
        PaddedN = (n + nr - 1) / nr * nr;
        // Pinned: kernels hold raw pointers into it for the duration of a call.
        _data = GC.AllocateUninitializedArray<float>(checked(k * PaddedN), pinned: true);
    }

    /// <summary>Depth (rows of B).</summary>
    public int K { get; }

    /// <summary>Columns of B.</summary>
    public int N { get; }

    /// <summary>Panel width (the micro-kernel's register-tile columns).</summary>
    public int Nr { get; }

    /// <summary>Columns rounded up to a whole panel.</summary>
    public int PaddedN { get; }

    /// <summary>Bytes a pack of a k×n matrix in <paramref name="nr"/>-wide panels holds.</summary>
    public static long BytesFor(int k, int n, int nr) => k * (((long)n + nr - 1) / nr * nr) * sizeof(float);

    /// <summary>Bytes held.</summary>
    public long Bytes => (long)_data.Length * sizeof(float);

    /// <summary>The panel holding column <paramref name="column"/> (a multiple of <see cref="Nr"/>) in the k slice that
    /// starts at row <paramref name="sliceStart"/> (a multiple of <see cref="GemmBlocked.Kc"/>). Valid while this
    /// object is reachable (the array is pinned).</summary>
    public float* Panel(int sliceStart, int column)
    {
        int kc = Math.Min(GemmBlocked.Kc, K - sliceStart);
        return (float*)Unsafe.AsPointer(ref _data[0]) + (long)sliceStart * PaddedN + (long)column * kc;
    }

    /// <summary>Packs B(p, j) = b[p·rs + j·cs] (k×n, any strides) for panels <paramref name="nr"/> wide, one k slice per
    /// worker.</summary>
    public static PackedPanels Pack(int k, int n, float* b, long rs, long cs, int nr)
    {
        if (k <= 0 || n <= 0) throw new ArgumentOutOfRangeException(nameof(k), $"a packed operand needs k, n > 0 (got {k}×{n})");
        var packed = new PackedPanels(k, n, nr);
        int slices = (k + GemmBlocked.Kc - 1) / GemmBlocked.Kc;
        nint src = (nint)b;
        int workers = Math.Min(slices, GemmParallel.Degree(0, 2.0 * k * n));
        GemmParallel.For(workers <= 1 ? 1 : slices, workers, w =>
        {
            var (s0, count) = GemmParallel.Chunk(slices, workers <= 1 ? 1 : slices, w, 1);
            for (int s = s0; s < s0 + count; s++)
            {
                int p0 = s * GemmBlocked.Kc, kc = Math.Min(GemmBlocked.Kc, k - p0);
                GemmPacking.PackB(kc, n, (float*)src + p0 * rs, rs, cs, nr, packed.Panel(p0, 0));
            }
        });
        return packed;
    }
}
