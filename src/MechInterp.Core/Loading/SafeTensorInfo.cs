namespace MechInterp;

/// <summary>One tensor entry of a safetensors header: its name, stored dtype, shape and byte range.</summary>
public sealed class SafeTensorInfo
{
    private readonly long[] _shape;

    internal SafeTensorInfo(string name, DType dtype, long[] shape, long numElements, long dataStart, long dataEnd, long headerEnd)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        Shape = Array.AsReadOnly(shape);
        NumElements = numElements;
        DataStart = dataStart;
        DataEnd = dataEnd;
        FileOffset = checked(headerEnd + dataStart);
    }

    /// <summary>The tensor's name (for example <c>transformer.h.0.attn.c_attn.weight</c>).</summary>
    public string Name { get; }

    /// <summary>The dtype the tensor is stored in.</summary>
    public DType DType { get; }

    /// <summary>The safetensors spelling of <see cref="DType"/> (<c>F32</c>, <c>F16</c>, <c>BF16</c>, ...).</summary>
    public string StoredDTypeName => SafeTensorsDTypes.ToName(DType);

    /// <summary>The size of every dimension (empty for a scalar).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>; 1 for a scalar).</summary>
    public long NumElements { get; }

    /// <summary>Start of the data, in bytes from the start of the data section (as in the header's <c>data_offsets</c>).</summary>
    public long DataStart { get; }

    /// <summary>End (exclusive) of the data, in bytes from the start of the data section.</summary>
    public long DataEnd { get; }

    /// <summary>Number of bytes of data (<see cref="DataEnd"/> − <see cref="DataStart"/>).</summary>
    public long ByteLength => DataEnd - DataStart;

    /// <summary>Absolute offset of the first data byte in the file.</summary>
    public long FileOffset { get; }

    /// <summary>A copy of the shape as an array (the form <see cref="Tensor"/> uses).</summary>
    public long[] ShapeArray() => (long[])_shape.Clone();

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {StoredDTypeName} {Tensor.ShapeString(_shape)} bytes [{DataStart}, {DataEnd})";
}
