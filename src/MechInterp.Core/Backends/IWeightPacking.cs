namespace MechInterp.Backends;

/// <summary>
/// Optional weight layout caching (a backend capability): the managed backend keeps unchanged weight matrices in its
/// GEMM kernel's panel layout. Backends without it read weights as they are.
/// </summary>
internal interface IWeightPacking
{
    /// <summary>Hints that <paramref name="x"/> holds model weights, read by many products while unchanged: a backend may
    /// keep a GEMM-friendly copy of its matrices (the managed one packs them), which every InPlace write invalidates.</summary>
    void MarkWeight(TensorHandle x);

    /// <summary>Marks the matrix <paramref name="x"/> as a weight (<see cref="MarkWeight"/>) and makes its GEMM layout
    /// now, at load, instead of on its second use in a forward pass (no first-use stall). A backend may decline (a
    /// layout it reads as is, a dtype it does not pack, a memory budget); results are the same either way.</summary>
    void PrepackWeight(TensorHandle x);
}
