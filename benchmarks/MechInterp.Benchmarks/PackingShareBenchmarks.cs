using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using MechInterp.Backends.Cpu.Kernels;

namespace MechInterp.Benchmarks;

/// <summary>
/// What keeping weights prepacked could save (issue 5, item 4: "float32 weights kept in GEMM-friendly packed layout
/// when that pays"): the managed Sgemm at GPT-2 small's Linear shapes against packing all of B into the micro-panel
/// layout the kernel reads (every KC×NC block, as <c>GemmBlocked</c> does per call), both on 2 threads (the columns split
/// in two halves, as the GEMM splits them). Packing time ÷ GEMM time bounds the saving of a prepacked layout.
/// </summary>
public unsafe class PackingShareBenchmarks
{
    private float* _a, _b, _c, _packed;
    private int _m, _k, _n;

    /// <summary>The product "MxKxN": GPT-2's W_Q/K/V, W_in, W_out and W_U at 128 and 1024 rows.</summary>
    [Params("128x768x768", "128x768x3072", "128x3072x768", "128x768x50257", "1024x768x3072", "1024x3072x768")]
    public string Product { get; set; } = "128x768x3072";

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var shape = GemmShape.Parse(Product);
        (_m, _k, _n) = (shape.M, shape.K, shape.N);
        _a = Alloc((long)_m * _k);
        _b = Alloc((long)_k * _n);
        _c = Alloc((long)_m * _n);
        _packed = Alloc(2L * PanelFloats); // one reused pack buffer per thread, as the GEMM has
        var rng = new Random(3);
        for (long i = 0; i < (long)_m * _k; i++) _a[i] = (float)rng.NextDouble();
        for (long i = 0; i < (long)_k * _n; i++) _b[i] = (float)rng.NextDouble();
    }

    /// <summary>Frees the operands.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a); NativeMemory.AlignedFree(_b); NativeMemory.AlignedFree(_c); NativeMemory.AlignedFree(_packed);
    }

    /// <summary>The whole product, C = A·B, 2 threads.</summary>
    [Benchmark(Baseline = true)]
    public void Gemm2Threads() => Gemm.Sgemm(_m, _n, _k, _a, _k, 1, _b, _n, 1, _c, _n, false, 2);

    /// <summary>Only the packing of B that each call repeats, 2 threads.</summary>
    [Benchmark]
    public void PackB2Threads()
    {
        int nr = Gemm.Isa == "avx512" ? 32 : 16;
        int half = (_n / 2 + nr - 1) / nr * nr;
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t =>
        {
            int j0 = t == 0 ? 0 : half, j1 = t == 0 ? Math.Min(half, _n) : _n;
            for (int jc = j0; jc < j1; jc += GemmBlocked.Nc)
            {
                int nc = Math.Min(GemmBlocked.Nc, j1 - jc);
                for (int pc = 0; pc < _k; pc += GemmBlocked.Kc)
                {
                    int kc = Math.Min(GemmBlocked.Kc, _k - pc);
                    GemmPacking.PackB(kc, nc, _b + (long)pc * _n + jc, _n, 1, nr, _packed + t * PanelFloats);
                }
            }
        });
    }

    private const long PanelFloats = (long)GemmBlocked.Kc * (GemmBlocked.Nc + 32);

    private static float* Alloc(long count) => (float*)NativeMemory.AlignedAlloc((nuint)(count * sizeof(float)), 64);
}
