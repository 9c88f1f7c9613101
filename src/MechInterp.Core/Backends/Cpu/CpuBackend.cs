namespace MechInterp.Backends.Cpu;

/// <summary>
/// The managed SIMD CPU backend: strided tensors over pooled, reference-counted arrays; element-wise work
/// through <c>TensorPrimitives</c> and our own Vector512/Vector256 kernels; big loops split across cores.
/// Float32 and Float64 compute; integer and Bool tensors support data movement, arithmetic, comparisons and
/// reductions; Float16 and BFloat16 are storage types (cast to Float32 to compute).
/// </summary>
internal sealed partial class CpuBackend : IBackend, IFusedAttentionKernels, IFusedNormKernels, IInPlaceKernels, IWeightPacking
{
    private static readonly CpuBackend s_instance = new();

    private CpuBackend() { }

    /// <summary>The single instance.</summary>
    public static IBackend Instance => s_instance;

    /// <inheritdoc />
    public Device Device => Device.Cpu;

    private static CpuHandle H(TensorHandle h) => h as CpuHandle
        ?? throw new ArgumentException($"a tensor from backend {h.Backend.Device} was passed to the managed CPU backend; move it with .To(Device.Cpu) first");

    /// <summary>x itself when contiguous (no new reference), else a contiguous copy; dispose with <see cref="Release"/>.</summary>
    private static CpuHandle Dense(CpuHandle x) => x.IsContiguous ? x : (CpuHandle)Instance.Contiguous(x);

    /// <summary>Disposes <paramref name="temp"/> when it is not <paramref name="original"/>.</summary>
    private static void Release(CpuHandle temp, CpuHandle original)
    {
        if (!ReferenceEquals(temp, original)) temp.Dispose();
    }

    private static NotSupportedException Unsupported(string op, DType dtype, string hint = "cast to Float32 first with .To(DType.Float32)") =>
        new($"{op} is not supported for {dtype} tensors on the managed CPU backend: {hint}");

    private static bool IsComparison(BinaryOp op) => op is BinaryOp.Eq or BinaryOp.Ne or BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge;

    /// <summary>Splits a contiguous shape around <paramref name="dim"/> into (outer, size, inner).</summary>
    private static (long Outer, long Size, long Inner) Split3(long[] shape, int dim)
    {
        long outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) outer *= shape[i];
        for (int i = dim + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, shape[dim], inner);
    }
}
