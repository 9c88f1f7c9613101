namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// A register-blocked single-precision GEMM micro-kernel: it multiplies an <see cref="Mr"/>-row packed panel
/// of A by an <see cref="Nr"/>-column packed panel of B and writes (or adds) the full Mr×Nr tile of C.
/// Implementations are structs so that the generic blocked driver is specialised (and the tile call inlined)
/// per instruction set.
/// </summary>
internal unsafe interface ISgemmKernel
{
    /// <summary>Rows of the register tile (rows per packed A panel).</summary>
    static abstract int Mr { get; }

    /// <summary>Columns of the register tile (columns per packed B panel).</summary>
    static abstract int Nr { get; }

    /// <summary>
    /// C[r*ldc + j] (+)= sum_p a[p*Mr + r] * b[p*Nr + j] for r &lt; Mr, j &lt; Nr.
    /// <paramref name="accumulate"/> false overwrites the tile.
    /// </summary>
    static abstract void Tile(int kc, float* a, float* b, float* c, long ldc, bool accumulate);
}
