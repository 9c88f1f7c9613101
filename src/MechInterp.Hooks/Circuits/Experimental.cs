namespace MechInterp.Circuits;

/// <summary>
/// Diagnostic ids of the parts of the library whose API may still change between minor versions (marked
/// <c>[Experimental]</c>; using them is a compile error until the id is suppressed, e.g.
/// <c>&lt;NoWarn&gt;$(NoWarn);MIEXP001&lt;/NoWarn&gt;</c>).
/// </summary>
public static class Experimental
{
    /// <summary>The computational graph, edge attribution (EAP, EAP-IG), circuit evaluation and path patching: their
    /// numbers are tested, their shape (graph nodes, options) is not settled yet.</summary>
    public const string Circuits = "MIEXP001";
}
