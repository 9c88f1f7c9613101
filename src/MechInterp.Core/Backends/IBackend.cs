namespace MechInterp.Backends;

/// <summary>
/// The small set of primitives a compute backend implements. Everything above (Tensor ops, autograd,
/// models, hooks, SAEs) is written once against these. Contract for all members:
/// <list type="bullet">
/// <item>Inputs are never mutated (except by members whose name says InPlace); results are new handles
/// that own their storage, except the view members (<see cref="View"/>, <see cref="Permute"/>,
/// <see cref="Expand"/>, <see cref="Narrow"/>) which share storage with their input.</item>
/// <item>Dims are already normalised (non-negative) and shapes validated by the caller (<see cref="Tensor"/>),
/// except where noted; a backend may assume valid arguments.</item>
/// <item>Binary ops and <see cref="Where"/> broadcast NumPy-style; both operands already have the same dtype
/// except for Where's Bool condition.</item>
/// <item>Floating ops support Float32 and Float64 on every backend; Torch backends also Float16/BFloat16.</item>
/// </list>
/// </summary>
internal interface IBackend
{
    /// <summary>The device this backend computes on.</summary>
    Device Device { get; }

    // ---- creation and transfer ----

    /// <summary>Copies a row-major array into a new tensor. <paramref name="data"/> is float[], double[], long[],
    /// int[], byte[], bool[], Half[] or ushort[] (BFloat16 bits), matching <paramref name="dtype"/>.</summary>
    TensorHandle FromArray(Array data, long[] shape, DType dtype);

    /// <summary>A new tensor filled with <paramref name="value"/>.</summary>
    TensorHandle Full(long[] shape, DType dtype, double value);

    /// <summary>Row-major copy of the data as an array of the handle's dtype (see <see cref="FromArray"/> for the element types).</summary>
    Array ToArray(TensorHandle x);

    /// <summary>Converts to another dtype (a copy, even when equal).</summary>
    TensorHandle Cast(TensorHandle x, DType dtype);

    // ---- views (share storage) ----

    /// <summary>Reinterprets a contiguous tensor with a new shape of the same element count. Caller guarantees contiguity.</summary>
    TensorHandle View(TensorHandle x, long[] shape);

    /// <summary>Reorders dimensions.</summary>
    TensorHandle Permute(TensorHandle x, int[] dims);

    /// <summary>Broadcasts size-1 dims (and new leading dims) to <paramref name="shape"/> without copying.</summary>
    TensorHandle Expand(TensorHandle x, long[] shape);

    /// <summary>Slice [start, start+length) of one dimension, with a step (step 1 is the common case).</summary>
    TensorHandle Narrow(TensorHandle x, int dim, long start, long length, long step = 1);

    /// <summary>True when elements are laid out densely in row-major order.</summary>
    bool IsContiguous(TensorHandle x);

    /// <summary>A contiguous copy (always a new handle with its own storage).</summary>
    TensorHandle Contiguous(TensorHandle x);

    /// <summary>Writes the elements of <paramref name="source"/> into <paramref name="destination"/> in place (same shape
    /// and dtype, validated by the caller). The destination may be a strided view of a larger tensor (a Narrow of a
    /// preallocated buffer): only the elements it covers change, and every other view of that storage sees them.</summary>
    void CopyInPlace(TensorHandle destination, TensorHandle source);

    /// <summary>Adds a bias over the last dim in place: every row of <paramref name="x"/> (contiguous, owned by the
    /// caller, guaranteed by it) gets <paramref name="bias"/> ([last], same dtype) added.</summary>
    void AddBiasInPlace(TensorHandle x, TensorHandle bias);

    /// <summary>Hints that <paramref name="x"/> holds model weights, read by many products while unchanged: a backend may
    /// keep a GEMM-friendly copy of its matrices (the managed one packs them), which every InPlace write invalidates.</summary>
    void MarkWeight(TensorHandle x);

    // ---- element-wise ----

    /// <summary>Unary element-wise op; output has the input's dtype (Bool for LogicalNot).</summary>
    TensorHandle Unary(UnaryOp op, TensorHandle x);

    /// <summary>Binary element-wise op with broadcasting. Comparisons return Bool.</summary>
    TensorHandle Binary(BinaryOp op, TensorHandle a, TensorHandle b);

    /// <summary>Binary op with a scalar: <c>x op s</c>, or <c>s op x</c> when <paramref name="scalarFirst"/>.</summary>
    TensorHandle BinaryScalar(BinaryOp op, TensorHandle x, double scalar, bool scalarFirst);

    /// <summary>Clamps into [min, max] (either bound may be absent).</summary>
    TensorHandle Clamp(TensorHandle x, double? min, double? max);

    /// <summary>cond ? a : b with broadcasting over all three.</summary>
    TensorHandle Where(TensorHandle cond, TensorHandle a, TensorHandle b);

    // ---- reductions ----

    /// <summary>Reduction over one dim. ArgMax/ArgMin give Int64; Max/Min give values only.</summary>
    TensorHandle Reduce(ReduceOp op, TensorHandle x, int dim, bool keepDim);

    /// <summary>Inclusive cumulative sum along <paramref name="dim"/>.</summary>
    TensorHandle CumSum(TensorHandle x, int dim);

    // ---- linear algebra ----

    /// <summary>Batched matrix product: a [..., M, K] @ b [..., K, N] → [..., M, N]. The caller has already
    /// broadcast the batch dims so they are equal (possibly as expanded views); a and b may be non-contiguous
    /// (e.g. transposed views), which the backend should exploit rather than copy where it can.</summary>
    TensorHandle MatMul(TensorHandle a, TensorHandle b);

    /// <summary>The batched product <see cref="MatMul"/> of causal attention, where row r of each matrix (r mod
    /// <paramref name="rowsPerGroup"/> = query i) only involves columns j ≤ i + <paramref name="offset"/> ("visible").
    /// <paramref name="inputMasked"/> false (scores = q·kᵀ): the visible entries of the result are exact and the hidden
    /// ones unspecified — the caller masks or ignores them. True (z = pattern·v): a's hidden entries are zero, so the
    /// product may skip them; the result is exact. A backend may compute the full product instead.</summary>
    TensorHandle CausalMatMul(TensorHandle a, TensorHandle b, long rowsPerGroup, long offset, bool inputMasked);

    // ---- neural-network primitives ----

    /// <summary>Numerically stable softmax (or log-softmax) over <paramref name="dim"/>.</summary>
    TensorHandle Softmax(TensorHandle x, int dim, bool log);

    /// <summary>Fused attention softmax over the last dim of scores [..., q, kv]: row i (of q) keeps keys
    /// j &lt;= i + <paramref name="offset"/> (causal, with <paramref name="offset"/> = kv - q cached keys before the
    /// queries), and gives softmax(x * <paramref name="scale"/>) over them and 0 elsewhere (a row with no visible key is
    /// all 0). Equal to scaling, masking with -inf, softmax and replacing NaN by 0, in one pass.</summary>
    TensorHandle CausalSoftmax(TensorHandle x, double scale, long offset);

    /// <summary>Causal masking of scores [..., q, kv] in one pass: x * <paramref name="scale"/> where key j &lt;= query
    /// i + <paramref name="offset"/>, and <paramref name="fill"/> elsewhere (-inf for attention scores, 0 for their
    /// gradient).</summary>
    TensorHandle CausalMask(TensorHandle x, double scale, long offset, double fill);

    /// <summary><see cref="CausalMask"/> written over <paramref name="x"/> itself (which the caller guarantees is
    /// contiguous and owned by nobody else), for scores no gradient will flow through.</summary>
    void CausalMaskInPlace(TensorHandle x, double scale, long offset, double fill);

    /// <summary><see cref="CausalMaskInPlace"/> (fill -inf) and the attention pattern of the masked scores in the same
    /// pass (softmax over the visible keys, 0 elsewhere); returns the pattern. For passes whose score hooks only observe.</summary>
    TensorHandle CausalMaskSoftmaxInPlace(TensorHandle x, double scale, long offset);

    /// <summary>A norm over the last dim with its scale in one pass: layer norm ((x - mean) / scale * w + b, scale =
    /// sqrt(var + eps)) or, with <paramref name="rms"/>, x / scale with scale = sqrt(mean(x²) + eps) and no weight.
    /// Scale has the input's shape with a last dim of 1 (TransformerLens's hook_scale).</summary>
    (TensorHandle Normalized, TensorHandle Scale) NormalizeWithScale(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps, bool rms);

    /// <summary>Layer norm over the last dim: (x - mean) / sqrt(var + eps) * w + b (biased variance); weight and bias optional ([last]).</summary>
    TensorHandle LayerNorm(TensorHandle x, TensorHandle? weight, TensorHandle? bias, double eps);

    /// <summary>RMS norm over the last dim: x / sqrt(mean(x^2) + eps) * w; weight optional ([last]).</summary>
    TensorHandle RmsNorm(TensorHandle x, TensorHandle? weight, double eps);

    // ---- training (fused backward and optimizer primitives) ----

    /// <summary>The gradient of an element-wise activation in one pass: <paramref name="grad"/> (broadcastable to
    /// <paramref name="x"/>'s shape, e.g. an expanded view) mapped through the derivative at <paramref name="x"/>
    /// (see <see cref="UnaryGradOp"/>); the result has x's shape. Same dtype for both (Float32/Float64).</summary>
    TensorHandle UnaryBackward(UnaryGradOp op, TensorHandle grad, TensorHandle x);

    /// <summary>One Adam/AdamW step (<see cref="AdamStepArgs"/>) that overwrites <paramref name="param"/>,
    /// <paramref name="expAvg"/> (m) and <paramref name="expAvgSq"/> (v) in place from <paramref name="grad"/>. All four
    /// have the same shape and dtype, and the caller guarantees they are contiguous.</summary>
    void AdamStepInPlace(TensorHandle param, TensorHandle grad, TensorHandle expAvg, TensorHandle expAvgSq, AdamStepArgs args);

    // ---- indexing ----

    /// <summary>Selects entries along <paramref name="dim"/> by an Int64 1-D index.</summary>
    TensorHandle IndexSelect(TensorHandle x, int dim, TensorHandle index);

    /// <summary>torch.gather: out[i][j][k] = x[i][index[i][j][k]][k] for dim 1 (index Int64, same rank as x).</summary>
    TensorHandle Gather(TensorHandle x, int dim, TensorHandle index);

    /// <summary>Out-of-place torch.scatter_add: a copy of <paramref name="x"/> with src added at index positions along dim.</summary>
    TensorHandle ScatterAdd(TensorHandle x, int dim, TensorHandle index, TensorHandle src);

    /// <summary>Out-of-place torch.index_add: a copy of x with src slices added at 1-D Int64 index along dim.</summary>
    TensorHandle IndexAdd(TensorHandle x, int dim, TensorHandle index, TensorHandle src);

    /// <summary>Concatenates along an existing dim (all same dtype and other dims).</summary>
    TensorHandle Concat(TensorHandle[] xs, int dim);

    /// <summary>k largest (or smallest) along dim, sorted; indices Int64.</summary>
    (TensorHandle Values, TensorHandle Indices) TopK(TensorHandle x, int k, int dim, bool largest);

    /// <summary>Stable sort along dim; indices Int64.</summary>
    (TensorHandle Values, TensorHandle Indices) Sort(TensorHandle x, int dim, bool descending);
}
