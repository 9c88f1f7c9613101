using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace MechInterp.Backends.Cpu.Kernels;

/// <summary>
/// GEMV-like path for a few rows of A (batch-1 decode, m ≤ <see cref="MaxRows"/>): memory-bandwidth bound, so B is
/// streamed once from memory in its own layout, with no packing copy.
/// </summary>
internal static unsafe class GemmSmallM
{
    /// <summary>Largest m served by this path.</summary>
    public const int MaxRows = 4;

    private const int ColumnBlock = 1024;

    /// <summary>Whether this path can serve the operand layout (B with unit row or column stride).</summary>
    public static bool Supports(int m, long brs, long bcs) => m <= MaxRows && (bcs == 1 || brs == 1);

    /// <summary>C[i, 0..n) (+)= A(i,:)·B for B with unit column stride (row-major): four rows of B per pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowMajorB(int m, int n, int k, float* a, long ars, long acs, float* b, long brs, float* c, long ldc, bool accumulate)
    {
        for (int j0 = 0; j0 < n; j0 += ColumnBlock)
        {
            int nb = Math.Min(ColumnBlock, n - j0);
            if (!accumulate)
                for (int i = 0; i < m; i++) new Span<float>(c + i * ldc + j0, nb).Clear();
            int p = 0;
            for (; p + 4 <= k; p += 4)
            {
                float* b0 = b + p * brs + j0;
                for (int i = 0; i < m; i++)
                {
                    float* ai = a + i * ars + p * acs;
                    Axpy4(c + i * ldc + j0, b0, brs, ai[0], ai[acs], ai[2 * acs], ai[3 * acs], nb);
                }
            }
            for (; p < k; p++)
            {
                var row = new ReadOnlySpan<float>(b + p * brs + j0, nb);
                for (int i = 0; i < m; i++)
                {
                    var ci = new Span<float>(c + i * ldc + j0, nb);
                    TensorPrimitives.MultiplyAdd(row, a[i * ars + p * acs], ci, ci);
                }
            }
        }
    }

    /// <summary>C[i, j] (+)= dot(A(i,:), B(:,j)) for B with unit row stride (each column contiguous).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ColumnMajorB(int m, int n, int k, float* a, long ars, long acs, float* b, long bcs, float* c, long ldc, bool accumulate)
    {
        float* rows = a;
        long rowStride = ars;
        if (acs != 1)
        {
            rows = (float*)GemmBuffers.A((nuint)((long)m * k * sizeof(float)));
            for (int i = 0; i < m; i++)
                for (int p = 0; p < k; p++) rows[(long)i * k + p] = a[i * ars + p * acs];
            rowStride = k;
        }
        for (int j = 0; j < n; j++)
        {
            var col = new ReadOnlySpan<float>(b + j * bcs, k);
            for (int i = 0; i < m; i++)
            {
                float dot = TensorPrimitives.Dot(new ReadOnlySpan<float>(rows + i * rowStride, k), col);
                float* cij = c + i * ldc + j;
                *cij = accumulate ? *cij + dot : dot;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy4(float* c, float* b, long brs, float x0, float x1, float x2, float x3, int n)
    {
        float* b1 = b + brs, b2 = b + 2 * brs, b3 = b + 3 * brs;
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> v0 = Vector512.Create(x0), v1 = Vector512.Create(x1), v2 = Vector512.Create(x2), v3 = Vector512.Create(x3);
            for (; j + 16 <= n; j += 16)
            {
                Vector512<float> acc = Vector512.Load(c + j);
                acc = Vector512.FusedMultiplyAdd(v0, Vector512.Load(b + j), acc);
                acc = Vector512.FusedMultiplyAdd(v1, Vector512.Load(b1 + j), acc);
                acc = Vector512.FusedMultiplyAdd(v2, Vector512.Load(b2 + j), acc);
                acc = Vector512.FusedMultiplyAdd(v3, Vector512.Load(b3 + j), acc);
                acc.Store(c + j);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> v0 = Vector256.Create(x0), v1 = Vector256.Create(x1), v2 = Vector256.Create(x2), v3 = Vector256.Create(x3);
            for (; j + 8 <= n; j += 8)
            {
                Vector256<float> acc = Vector256.Load(c + j);
                acc = Vector256.FusedMultiplyAdd(v0, Vector256.Load(b + j), acc);
                acc = Vector256.FusedMultiplyAdd(v1, Vector256.Load(b1 + j), acc);
                acc = Vector256.FusedMultiplyAdd(v2, Vector256.Load(b2 + j), acc);
                acc = Vector256.FusedMultiplyAdd(v3, Vector256.Load(b3 + j), acc);
                acc.Store(c + j);
            }
        }
        for (; j < n; j++)
            c[j] += x0 * b[j] + x1 * b1[j] + x2 * b2[j] + x3 * b3[j];
    }
}
