namespace MechInterp;

public abstract partial class TextTokenizer
{
    private static readonly Lazy<Gpt2TextTokenizer> SharedGpt2 = new(() => new Gpt2TextTokenizer());

    /// <summary>
    /// GPT-2's tokenizer from the tiktoken data bundled with Microsoft.ML.Tokenizers (no files, no network).
    /// The instance is shared: tokenizers are immutable.
    /// </summary>
    /// <returns>The GPT-2 tokenizer.</returns>
    public static TextTokenizer Gpt2() => SharedGpt2.Value;
}
