using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using MechInterp.Backends.Cpu.Kernels;
using TorchSharp;

namespace MechInterp.Benchmarks;

/// <summary>
/// Float32 C = A·B at GPT-2 small shapes (batch×pos = 128 rows) and 1024³: the managed kernel on 2 threads
/// against libtorch's <c>torch.matmul</c> with <c>torch.set_num_threads(2)</c>, on the same data.
/// </summary>
[MemoryDiagnoser(false)]
public unsafe class GemmBenchmarks
{
    private float* _a, _b, _c;
    private torch.Tensor? _ta, _tb;
    private GemmShape _shape;

    /// <summary>The product shape, "MxKxN" for [M×K]·[K×N].</summary>
    [Params("128x768x2304", "128x768x3072", "128x3072x768", "128x768x50257", "1024x1024x1024")]
    public string Shape { get; set; } = "1024x1024x1024";

    /// <summary>Threads given to both engines (the machine has 2 cores).</summary>
    public const int Threads = 2;

    /// <summary>Allocates and fills the operands once (the same values for both engines) and warms C.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _shape = GemmShape.Parse(Shape);
        var (m, k, n) = (_shape.M, _shape.K, _shape.N);
        float[] a = Filled(m * k, 1), b = Filled(k * n, 2);
        _a = Copy(a);
        _b = Copy(b);
        _c = (float*)NativeMemory.AlignedAlloc((nuint)((long)m * n * sizeof(float)), 64);
        new Span<float>(_c, m * n).Clear();
        torch.set_num_threads(Threads);
        _ta = torch.tensor(a, new long[] { m, k });
        _tb = torch.tensor(b, new long[] { k, n });
    }

    /// <summary>Frees the operands.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        NativeMemory.AlignedFree(_a);
        NativeMemory.AlignedFree(_b);
        NativeMemory.AlignedFree(_c);
        _ta?.Dispose();
        _tb?.Dispose();
    }

    /// <summary>MechInterp's managed SIMD Sgemm (row-major operands, C overwritten), 2 threads.</summary>
    [Benchmark]
    public void Managed() => Gemm.Sgemm(_shape.M, _shape.N, _shape.K, _a, _shape.K, 1, _b, _shape.N, 1, _c, _shape.N, false, Threads);

    /// <summary>libtorch <c>torch.matmul</c> (eager: allocates its result, as PyTorch does), 2 threads.</summary>
    [Benchmark(Baseline = true)]
    public void Libtorch()
    {
        using var c = torch.matmul(_ta!, _tb!);
    }

    private static float[] Filled(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() - 0.5);
        return x;
    }

    private static float* Copy(float[] data)
    {
        var p = (float*)NativeMemory.AlignedAlloc((nuint)((long)data.Length * sizeof(float)), 64);
        data.AsSpan().CopyTo(new Span<float>(p, data.Length));
        return p;
    }
}
