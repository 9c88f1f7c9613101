namespace MechInterp;

/// <summary>One tensor to write: its name, dtype, shape and row-major data in the array type
/// <see cref="Tensor.FromArray(Array, long[], DType, Device)"/> uses (float[], double[], Half[], ushort[] for
/// BFloat16 bits, long[], int[], byte[], bool[]).</summary>
internal sealed record SafeTensorsEntry(string Name, DType DType, long[] Shape, Array Data)
{

    /// <summary>Copies a tensor's elements out (row-major, in its own dtype).</summary>
    public static SafeTensorsEntry FromTensor(string name, Tensor tensor) =>
        new(name, tensor.DType, (long[])tensor.Shape.Clone(), tensor.ToStorageArray());

    /// <summary>Throws <see cref="ArgumentException"/> naming the tensor when the data does not fit the dtype and shape.</summary>
    public void Validate()
    {
        if (Name == "__metadata__")
            throw new ArgumentException("'__metadata__' is reserved by the safetensors format and cannot name a tensor; rename it");
        var want = DType.ElementType();
        if (Data.GetType().GetElementType() != want || Data.Rank != 1)
            throw new ArgumentException($"tensor '{Name}': {DType} data must be a {want.Name}[], got {Data.GetType().Name}");
        long n = 1;
        foreach (var d in Shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{Name}': negative dimension in shape {Tensor.ShapeString(Shape)}");
            n = checked(n * d);
        }
        if (n != Data.LongLength)
            throw new ArgumentException($"tensor '{Name}': {Data.LongLength} values do not fill shape {Tensor.ShapeString(Shape)} ({n} elements)");
    }
}
