namespace MechInterp;

/// <summary>Where the pad tokens of a batch of texts of different lengths go (TransformerLens's <c>padding_side</c>).</summary>
public enum PaddingSide
{
    /// <summary>After each text (TransformerLens's default): the real tokens keep positions 0..n-1.</summary>
    Right,
    /// <summary>Before each text, so every row ends at the last position (what generation needs); position ids then
    /// count from each row's first real token.</summary>
    Left,
}
