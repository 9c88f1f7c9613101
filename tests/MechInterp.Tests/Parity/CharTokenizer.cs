namespace MechInterp.Tests.Parity;

/// <summary>A tokenizer small enough for the fixtures' 512-token vocabularies: one id per printable ASCII character
/// (id = 10 + code - 32), with BOS 1, EOS 2 and PAD 3, so expected ids can be written by hand.</summary>
internal sealed class CharTokenizer : TextTokenizer
{
    public const int Bos = 1, Eos = 2, Pad = 3;

    public CharTokenizer()
    {
        BosTokenId = Bos;
        EosTokenId = Eos;
        PadTokenId = Pad;
        AddsBosByDefault = true;
    }

    public static long Id(char c) => 10 + c - 32;

    public override int VocabSize => 512;

    public override IReadOnlyList<int> Encode(string text) => text.Select(c => (int)Id(c)).ToArray();

    public override string Decode(IEnumerable<int> ids) => string.Concat(ids.Select(i => i switch
    {
        Bos => "<bos>",
        Eos => "<eos>",
        Pad => "<pad>",
        >= 10 and < 105 => ((char)(i - 10 + 32)).ToString(),
        _ => $"<{i}>",
    }));
}
