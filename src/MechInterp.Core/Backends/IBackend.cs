namespace MechInterp.Backends;

/// <summary>
/// The small set of primitives a compute backend implements. Everything above (Tensor ops, autograd,
/// models, hooks, SAEs) is written once against these. Fused fast paths are optional capability interfaces
/// (<see cref="IFusedAttentionKernels"/>, <see cref="IFusedNormKernels"/>, <see cref="IInPlaceKernels"/>,
/// <see cref="IWeightPacking"/>): a backend implements those it can do better than the reference version that
/// <see cref="Tensor"/> composes from these primitives. Contract for all members:
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

    /// <summary>Reinterprets a tensor with a new shape of the same element count, sharing its storage. Caller guarantees
    /// the tensor is contiguous or the new shape only inserts or removes size-1 dims (always stride-compatible).</summary>
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

    // ---- neural-network primitives ----

    /// <summary>Numerically stable softmax (or log-softmax) over <paramref name="dim"/>.</summary>
    TensorHandle Softmax(TensorHandle x, int dim, bool log);

    // ---- training (fused backward and optimizer primitives) ----

    /// <summary>The gradient of an element-wise activation in one pass: <paramref name="grad"/> (broadcastable to
    /// <paramref name="x"/>'s shape, e.g. an expanded view) mapped through the derivative at <paramref name="x"/>
    /// (see <see cref="UnaryGradOp"/>); the result has x's shape. Same dtype for both (Float32/Float64).</summary>
    TensorHandle UnaryBackward(UnaryGradOp op, TensorHandle grad, TensorHandle x);

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
