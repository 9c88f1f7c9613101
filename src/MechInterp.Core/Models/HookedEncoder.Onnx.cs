using MechInterp.Loading.Onnx;

namespace MechInterp;

public sealed partial class HookedEncoder
{
    /// <summary>
    /// Builds a bare encoder (no MLM head) from an ONNX export of a BERT model such as all-MiniLM-L6-v2: the graph is
    /// read with a built-in protobuf reader and every weight's role is recovered from the graph structure (exporters
    /// rename and transpose the Linear weights). The forward pass returns the last hidden state, which equals the
    /// ONNX model's <c>last_hidden_state</c>. <paramref name="nHeads"/> overrides the head count read from the graph.
    /// </summary>
    /// <exception cref="OnnxFormatException">The bytes are not ONNX, or the graph is not a BERT-style encoder.</exception>
    public static HookedEncoder FromOnnx(byte[] onnxModel, TextTokenizer? tokenizer = null, LoadOptions? options = null, int? nHeads = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        options ??= new LoadOptions();
        if (options.Processing != WeightProcessing.None)
            throw new NotSupportedException("weight processing is not implemented for encoders: load without it");
        options.Progress?.Report(new LoadProgress("graph", 0, 1));
        var imported = OnnxBertImporter.Import(OnnxGraph.Parse(onnxModel), nHeads);
        var config = imported.Config;
        if (options.ConfigureConfig is not null) config = options.ConfigureConfig(config);
        var model = new HookedEncoder(config, options.Device, tokenizer, imported.NTokenTypes, withMlmHead: false);
        model.LoadConverted(imported.Weights, options);
        return model;
    }

    /// <summary>Builds a bare encoder from an ONNX stream (e.g. an embedded resource); see <see cref="FromOnnx(byte[], TextTokenizer?, LoadOptions?, int?)"/>.</summary>
    public static HookedEncoder FromOnnx(Stream onnxModel, TextTokenizer? tokenizer = null, LoadOptions? options = null, int? nHeads = null)
    {
        ArgumentNullException.ThrowIfNull(onnxModel);
        using var buffer = new MemoryStream(onnxModel.CanSeek ? (int)Math.Min(onnxModel.Length, int.MaxValue) : 0);
        onnxModel.CopyTo(buffer);
        return FromOnnx(buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray(), tokenizer, options, nHeads);
    }

    /// <summary>Builds a bare encoder from an .onnx file; the tokenizer defaults to the vocab.txt (or tokenizer.json)
    /// beside it when there is one.</summary>
    public static HookedEncoder FromOnnx(string onnxPath, TextTokenizer? tokenizer = null, LoadOptions? options = null, int? nHeads = null)
    {
        if (!File.Exists(onnxPath)) throw new FileNotFoundException($"ONNX model '{onnxPath}' does not exist", onnxPath);
        if (tokenizer is null)
        {
            try { tokenizer = TextTokenizer.FromPretrained(Path.GetDirectoryName(Path.GetFullPath(onnxPath))!); }
            catch (TokenizerFilesNotFoundException) { }
        }
        var model = FromOnnx(File.ReadAllBytes(onnxPath), tokenizer, options, nHeads);
        return model;
    }
}
