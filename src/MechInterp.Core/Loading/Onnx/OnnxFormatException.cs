namespace MechInterp.Loading.Onnx;

/// <summary>An ONNX file is malformed, or its graph is not one the importer recognises.</summary>
public sealed class OnnxFormatException : FormatException
{
    /// <summary>Creates the exception with a message that names the problem and the fix.</summary>
    public OnnxFormatException(string message) : base(message) { }
}
