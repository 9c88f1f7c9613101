namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>Portable scalar micro-kernel (4 × 4 register tile) for CPUs without AVX2/AVX-512.</summary>
internal readonly unsafe struct SgemmKernelScalar : ISgemmKernel
{
    /// <inheritdoc/>
    public static int Mr => 4;

    /// <inheritdoc/>
    public static int Nr => 4;

    /// <summary>Full 4x4 tile: C[0..4,0..4] (+)= Ap·Bp over <paramref name="kc"/> packed steps.</summary>
    public static void Tile(int kc, float* a, float* b, float* c, long ldc, bool accumulate)
    {
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int p = 0; p < kc; p++)
        {
            float b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3];
            float a0 = a[0];
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            float a1 = a[1];
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            float a2 = a[2];
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            float a3 = a[3];
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            a += 4;
            b += 4;
        }
        if (accumulate)
        {
            c00 += c[0 * ldc + 0]; c01 += c[0 * ldc + 1]; c02 += c[0 * ldc + 2]; c03 += c[0 * ldc + 3];
            c10 += c[1 * ldc + 0]; c11 += c[1 * ldc + 1]; c12 += c[1 * ldc + 2]; c13 += c[1 * ldc + 3];
            c20 += c[2 * ldc + 0]; c21 += c[2 * ldc + 1]; c22 += c[2 * ldc + 2]; c23 += c[2 * ldc + 3];
            c30 += c[3 * ldc + 0]; c31 += c[3 * ldc + 1]; c32 += c[3 * ldc + 2]; c33 += c[3 * ldc + 3];
        }
        c[0 * ldc + 0] = c00; c[0 * ldc + 1] = c01; c[0 * ldc + 2] = c02; c[0 * ldc + 3] = c03;
        c[1 * ldc + 0] = c10; c[1 * ldc + 1] = c11; c[1 * ldc + 2] = c12; c[1 * ldc + 3] = c13;
        c[2 * ldc + 0] = c20; c[2 * ldc + 1] = c21; c[2 * ldc + 2] = c22; c[2 * ldc + 3] = c23;
        c[3 * ldc + 0] = c30; c[3 * ldc + 1] = c31; c[3 * ldc + 2] = c32; c[3 * ldc + 3] = c33;
    }
}
