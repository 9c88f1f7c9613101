namespace MechInterp;

/// <summary>
/// A checkpoint is stored in a pickle-based format (<c>pytorch_model.bin</c>, <c>*.pt</c>, <c>*.pth</c>,
/// <c>*.ckpt</c>, <c>*.pkl</c>). Unpickling can execute arbitrary code, so MechInterp never loads such files;
/// the message explains how to convert the checkpoint to safetensors.
/// </summary>
public sealed class UnsafeCheckpointFormatException : Exception
{
    /// <summary>Creates the exception for the pickle file at <paramref name="filePath"/>.</summary>
    /// <param name="filePath">The refused file.</param>
    public UnsafeCheckpointFormatException(string filePath)
        : base(BuildMessage(filePath))
    {
        FilePath = filePath;
    }

    /// <summary>The refused pickle-format file.</summary>
    public string FilePath { get; }

    private static string BuildMessage(string filePath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(filePath)) ?? ".";
        return $"refusing to load '{filePath}': it is a PyTorch pickle file, and unpickling can execute arbitrary code " +
               "hidden in the file. MechInterp reads only safetensors. Convert the checkpoint once, in Python, " +
               "on a machine where you trust the file:\n" +
               $"  python -c \"from transformers import AutoModel; AutoModel.from_pretrained('{dir}').save_pretrained('{dir}-safetensors', safe_serialization=True)\"\n" +
               "(use AutoModelForCausalLM to keep the language-model head), or run the safetensors project's " +
               "convert script (https://github.com/huggingface/safetensors/blob/main/bindings/python/convert.py), " +
               "or for a plain state dict: python -c \"import torch, safetensors.torch as st; " +
               $"st.save_file(torch.load('{filePath}', weights_only=True), 'model.safetensors')\".";
    }
}
