using BenchmarkDotNet.Attributes;
using TorchSharp;

namespace MechInterp.Benchmarks;

/// <summary>
/// Row-wise softmax and layer norm over a [128, 768] float32 activation (GPT-2 small, 128 positions):
/// MechInterp's managed CPU backend through the Tensor API against libtorch with 2 threads.
/// </summary>
[MemoryDiagnoser(false)]
public class RowOpBenchmarks
{
    private const int Rows = 128, Width = 768;
    private Tensor? _x, _w, _b;
    private torch.Tensor? _tx, _tw, _tb;

    /// <summary>Creates the same inputs for both engines.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        float[] x = new float[Rows * Width], w = new float[Width], b = new float[Width];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 8 - 4);
        for (int i = 0; i < Width; i++) { w[i] = (float)(1 + 0.1 * rng.NextDouble()); b[i] = (float)(0.1 * rng.NextDouble()); }
        _x = Tensor.FromArray(x, Rows, Width);
        _w = Tensor.FromArray(w, Width);
        _b = Tensor.FromArray(b, Width);
        torch.set_num_threads(GemmBenchmarks.Threads);
        _tx = torch.tensor(x, new long[] { Rows, Width });
        _tw = torch.tensor(w, new long[] { Width });
        _tb = torch.tensor(b, new long[] { Width });
    }

    /// <summary>Releases both engines' tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _x?.Dispose(); _w?.Dispose(); _b?.Dispose();
        _tx?.Dispose(); _tw?.Dispose(); _tb?.Dispose();
    }

    /// <summary>Managed <c>x.Softmax(-1)</c>.</summary>
    [Benchmark]
    public void ManagedSoftmax()
    {
        using var y = _x!.Softmax(-1);
    }

    /// <summary>libtorch <c>x.softmax(-1)</c>.</summary>
    [Benchmark]
    public void LibtorchSoftmax()
    {
        using var y = _tx!.softmax(-1);
    }

    /// <summary>Managed <c>x.LayerNorm(w, b)</c> (eps 1e-5).</summary>
    [Benchmark]
    public void ManagedLayerNorm()
    {
        using var y = _x!.LayerNorm(_w, _b);
    }

    /// <summary>libtorch <c>layer_norm(x, [768], w, b, 1e-5)</c>.</summary>
    [Benchmark]
    public void LibtorchLayerNorm()
    {
        using var y = torch.nn.functional.layer_norm(_tx!, new long[] { Width }, _tw, _tb, 1e-5);
    }
}
