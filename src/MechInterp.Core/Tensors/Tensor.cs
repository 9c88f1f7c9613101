using System.Text;
using MechInterp.Autograd;
using MechInterp.Backends;

namespace MechInterp;

/// <summary>
/// An n-dimensional array on a <see cref="Device"/>, with reverse-mode autograd. The one tensor type of the
/// library: every op runs unchanged on the managed CPU backend and on TorchSharp. Tensors are
/// <see cref="IDisposable"/>; a <see cref="Scope"/> disposes what was made inside it.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private TensorHandle? _handle;

    internal Tensor(TensorHandle handle)
    {
        _handle = handle;
        TensorScope.Register(this);
    }

    internal TensorHandle Handle => _handle ?? throw new ObjectDisposedException(nameof(Tensor),
        "this tensor was disposed (by Dispose() or by the Tensor.Scope() that made it); move it out of the scope with MoveToOuterScope() to keep it");

    internal IBackend Backend => Handle.Backend;

    /// <summary>The size of every dimension.</summary>
    public long[] Shape => Handle.Shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Handle.Shape.Length;

    /// <summary>Total number of elements.</summary>
    public long NumElements => Handle.NumElements;

    /// <summary>Element type.</summary>
    public DType DType => Handle.DType;

    /// <summary>The device (backend) holding the data.</summary>
    public Device Device => Handle.Backend.Device;

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _handle is null;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public long Size(int dim) => Shape[NormalizeDim(dim, Rank)];

    /// <summary>True when the data is dense and row-major.</summary>
    public bool IsContiguous => Backend.IsContiguous(Handle);

    /// <summary>Releases the data now (native memory on Torch; the pooled buffer on the CPU).</summary>
    public void Dispose()
    {
        var h = _handle;
        _handle = null;
        h?.Dispose();
        if (GradFn is { } node) node.Disposed = true;
        GradFn = null;
    }

    /// <summary>Replaces this tensor's data by <paramref name="source"/>'s (same shape and device), keeping this object's
    /// identity and autograd flags; <paramref name="source"/> is consumed. Used by optimizers for in-place updates.</summary>
    internal void AssignData(Tensor source)
    {
        if (!source.Shape.AsSpan().SequenceEqual(Shape) || source.Device != Device)
            throw new ArgumentException($"cannot assign a {ShapeString(source.Shape)} tensor on {source.Device} to a {ShapeString(Shape)} tensor on {Device}");
        var h = source._handle ?? throw new ObjectDisposedException(nameof(Tensor));
        source._handle = null;
        source.GradFn = null;
        var old = _handle;
        _handle = h;
        old?.Dispose();
    }

    /// <summary>Keeps this tensor alive past the innermost <see cref="Scope"/> (it joins the enclosing scope, if any).</summary>
    public Tensor MoveToOuterScope()
    {
        TensorScope.MoveToOuter(this);
        return this;
    }

    /// <summary>Detaches this tensor from every scope: only an explicit <see cref="Dispose"/> (or the GC) frees it.</summary>
    public Tensor DetachFromScopes()
    {
        TensorScope.Forget(this);
        return this;
    }

    /// <summary>Opens a scope: tensors created on this thread until it is disposed are disposed with it, unless moved out.</summary>
    public static TensorScope Scope() => TensorScope.Open();

    // ---------- host transfer ----------

    /// <summary>Row-major copy of the elements as <typeparamref name="T"/> (float, double, long, int, bool, byte, Half).
    /// The tensor is converted when its dtype differs.</summary>
    public T[] ToArray<T>()
    {
        var want = DTypeOf<T>();
        if (want == DType)
            return (T[])Backend.ToArray(Handle);
        using var converted = new Tensor(Backend.Cast(Handle, want)).DetachFromScopes();
        return (T[])Backend.ToArray(converted.Handle);
    }

    /// <summary>The value of a one-element tensor.</summary>
    public T Item<T>()
    {
        if (NumElements != 1)
            throw new InvalidOperationException($"Item<{typeof(T).Name}>() needs a tensor with one element, this one has shape {ShapeString(Shape)}");
        return ToArray<T>()[0];
    }

    internal static DType DTypeOf<T>() => typeof(T) switch
    {
        var t when t == typeof(float) => DType.Float32,
        var t when t == typeof(double) => DType.Float64,
        var t when t == typeof(long) => DType.Int64,
        var t when t == typeof(int) => DType.Int32,
        var t when t == typeof(bool) => DType.Bool,
        var t when t == typeof(byte) => DType.UInt8,
        var t when t == typeof(Half) => DType.Float16,
        _ => throw new NotSupportedException($"element type {typeof(T).Name} is not a tensor dtype: use float, double, long, int, bool, byte or Half"),
    };

    /// <summary>Moves (copies) the tensor to another device. Returns this tensor when already there.
    /// Gradients flow back through the copy.</summary>
    public Tensor To(Device device)
    {
        if (device == Device) return this;
        var target = BackendRegistry.Get(device);
        TensorHandle moved;
        if (target is ICrossDeviceBackend cross && cross.TryCopyFrom(Handle, out var h)) moved = h;
        else
        {
            using var c = new Tensor(Backend.Contiguous(Handle)).DetachFromScopes();
            moved = target.FromArray(Backend.ToArray(c.Handle), (long[])Shape.Clone(), DType);
        }
        var result = new Tensor(moved);
        var src = Device;
        AutogradRecorder.Record(result, "to_device", [this], g => [g.To(src)]);
        return result;
    }

    /// <summary>Converts to another dtype (returns this tensor when equal). Gradients flow back for float dtypes.</summary>
    public Tensor To(DType dtype)
    {
        if (dtype == DType) return this;
        var result = new Tensor(Backend.Cast(Handle, dtype));
        var srcType = DType;
        if (dtype.IsFloatingPoint() && srcType.IsFloatingPoint())
            AutogradRecorder.Record(result, "cast", [this], g => [g.To(srcType)]);
        return result;
    }

    /// <summary>Converts device and dtype.</summary>
    public Tensor To(Device device, DType dtype) => To(device).To(dtype);

    /// <summary>An independent copy with its own storage (gradients flow through).</summary>
    public Tensor Clone()
    {
        var result = new Tensor(Backend.Contiguous(Handle));
        AutogradRecorder.Record(result, "clone", [this], g => [g]);
        return result;
    }

    // ---------- printing ----------

    /// <summary>Shape, dtype, device and a corner of the values.</summary>
    public override string ToString()
    {
        if (IsDisposed) return "Tensor(disposed)";
        var sb = new StringBuilder();
        sb.Append("Tensor(").Append(ShapeString(Shape)).Append(", ").Append(DType).Append(", ").Append(Device);
        if (RequiresGrad) sb.Append(", requires_grad");
        sb.Append(")");
        try
        {
            using var scope = Scope();
            var flat = Rank == 0 ? this : Reshape(-1);
            long n = Math.Min(flat.NumElements, 8);
            var head = flat.Narrow(0, 0, n).To(DType == DType.Bool ? DType.Bool : DType.Float64);
            sb.Append(" [");
            if (DType == DType.Bool) sb.AppendJoin(", ", head.ToArray<bool>());
            else sb.AppendJoin(", ", head.ToArray<double>().Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)));
            if (flat.NumElements > n) sb.Append(", ...");
            sb.Append(']');
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            sb.Append(" <values unavailable: ").Append(e.Message).Append('>');
        }
        return sb.ToString();
    }

    internal static string ShapeString(long[] shape) => "[" + string.Join(", ", shape) + "]";

    internal static int NormalizeDim(int dim, int rank)
    {
        int d = dim < 0 ? dim + rank : dim;
        if (d < 0 || d >= Math.Max(rank, 1))
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"dimension {dim} is out of range for a tensor of rank {rank} (valid: {-rank}..{rank - 1})");
        return d;
    }
}
