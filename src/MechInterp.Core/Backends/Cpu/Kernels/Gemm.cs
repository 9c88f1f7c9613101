namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>General matrix multiply over raw pointers with arbitrary operand strides.</summary>
internal static unsafe class Gemm
{
    // C(i,j) (+)= sum_k A(i,k) B(k,j); A(i,k) = a[i*aRowStride + k*aColStride]; B(k,j) = b[k*bRowStride + j*bColStride];
    // C(i,j) = c[i*ldc + j]. accumulate=false overwrites C. threads: max degree of parallelism (0 = all cores).

    /// <summary>Single-precision GEMM: C = A·B (or C += A·B when <paramref name="accumulate"/>).</summary>
    public static void Sgemm(int m, int n, int k, float* a, long aRowStride, long aColStride, float* b, long bRowStride, long bColStride, float* c, long ldc, bool accumulate, int threads)
    {
        Validate(m, n, k, ldc, threads);
        if (m == 0 || n == 0) return;
        for (int i = 0; i < m; i++)
        {
            float* ci = c + i * ldc;
            if (!accumulate) new Span<float>(ci, n).Clear();
            for (int p = 0; p < k; p++)
            {
                float av = a[i * aRowStride + p * aColStride];
                float* bp = b + p * bRowStride;
                for (int j = 0; j < n; j++) ci[j] += av * bp[j * bColStride];
            }
        }
    }

    /// <summary>Double-precision GEMM: C = A·B (or C += A·B when <paramref name="accumulate"/>).</summary>
    public static void Dgemm(int m, int n, int k, double* a, long aRowStride, long aColStride, double* b, long bRowStride, long bColStride, double* c, long ldc, bool accumulate, int threads)
    {
        Validate(m, n, k, ldc, threads);
        if (m == 0 || n == 0) return;
        for (int i = 0; i < m; i++)
        {
            double* ci = c + i * ldc;
            if (!accumulate) new Span<double>(ci, n).Clear();
            for (int p = 0; p < k; p++)
            {
                double av = a[i * aRowStride + p * aColStride];
                double* bp = b + p * bRowStride;
                for (int j = 0; j < n; j++) ci[j] += av * bp[j * bColStride];
            }
        }
    }

    private static void Validate(int m, int n, int k, long ldc, int threads)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM dimensions must be non-negative, got m={m}, n={n}, k={k}.");
        if (threads < 0)
            throw new ArgumentOutOfRangeException(nameof(threads), $"threads must be 0 (all cores) or positive, got {threads}.");
        if (m > 1 && ldc < n)
            throw new ArgumentOutOfRangeException(nameof(ldc), $"ldc ({ldc}) must be at least n ({n}) so rows of C do not overlap.");
    }
}
